# The pages' front-end pieces (tom-select, flatpickr, lucide icons): npm packages, pinned.
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 COUPONHUB_VAR_DIR=/var/couponhub
WORKDIR /app
# the CJK font that the pickup-card sheets embed (couponhub/core/cardsheets.py)
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
COPY . .
COPY --from=assets /app/node_modules ./node_modules
RUN pip install --no-cache-dir -e . && mkdir -p /var/couponhub
# Static files are collected with the production (hashed, compressed) storage at build time.
RUN DJANGO_ENV=production SECRET_KEY=build-only ALLOWED_HOSTS=build \
    FIELD_ENCRYPTION_KEY=$(python -c "import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())") \
    python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "couponhub.wsgi", "--bind", "0.0.0.0:8000"]

"""A small product master for the demo chain: the pharmacy's goods and the 聚食汇 stores' dishes,
in two-level 食品类别 (饮品 › 咖啡/茶饮). Coupon rules and the outside item coupon name them."""

from decimal import Decimal

from products import services
from products.models import Category

CATEGORIES = [
    # code, name, parent code
    ("YP", "药品", ""),
    ("ZCY", "中成药", "YP"),
    ("ZYYP", "中药饮片", "YP"),
    ("CFY", "处方药", "YP"),
    ("ZBP", "滋补品", ""),
    ("FW", "服务", ""),
    ("YIN", "饮品", ""),
    ("KF", "咖啡", "YIN"),
    ("CY", "茶饮", "YIN"),
    ("ZS", "主食", ""),
    ("XS", "小食", ""),
]
PRODUCTS = [
    # sku, name, category code, unit, price
    ("6901234500011", "六味地黄丸", "ZCY", "盒", "32.00"),
    ("6901234500028", "安宫牛黄丸", "ZCY", "丸", "860.00"),
    ("6901234500035", "西洋参片", "ZBP", "袋", "128.00"),
    ("6901234500042", "煎药费", "FW", "付", "5.00"),
    ("6901234500059", "枸杞子", "ZYYP", "袋", "45.50"),
    ("6901234500066", "阿莫西林胶囊", "CFY", "盒", "18.00"),
    ("D001", "鱼香肉丝", "ZS", "份", "38.00"),
    ("D002", "宫保鸡丁", "ZS", "份", "42.00"),
    ("D003", "扬州炒饭", "ZS", "份", "26.00"),
    ("S001", "薯条", "XS", "份", "12.00"),
    ("S002", "鸡米花", "XS", "份", "15.00"),
    ("K001", "美式咖啡", "KF", "杯", "22.00"),
    ("K002", "拿铁", "KF", "杯", "26.00"),
    ("C001", "柠檬茶", "CY", "杯", "16.00"),
]


def seed(out) -> None:
    if Category.objects.filter(code="YIN").exists():
        return
    services.upsert_categories(
        actor=None,
        rows=[services.CategoryData(code=c, name=n, parent_code=p) for c, n, p in CATEGORIES],
    )
    services.upsert_products(
        actor=None,
        rows=[
            services.ProductData(sku=s, name=n, category_code=c, unit=u, price=Decimal(p))
            for s, n, c, u, p in PRODUCTS
        ],
    )
    out.write(f"  products: {len(CATEGORIES)} food categories, {len(PRODUCTS)} foods")

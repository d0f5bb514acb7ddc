"""Signed requests: X-Client-Id, X-Timestamp (±300 s), X-Nonce (once per 10 minutes),
X-Signature = hex HMAC-SHA256(secret, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY))."""

import functools
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from ninja.security import APIKeyHeader

from api.models import ApiClient, ApiNonce
from couponhub.core import signing
from couponhub.core.errors import Refused
from couponhub.core.models import Org
from couponhub.core.signing import SignedHeaders, claim_nonce, read_signed_headers, refuse_nul

NONCE_TTL = signing.NONCE_TTL


def _unauthorized(code: str, message: str) -> Refused:
    return Refused(code, message, status=401)


def verify_request(request) -> ApiClient:
    signed = read_signed_headers(request, "X-Client-Id")
    client_id, nonce = signed.signer, signed.nonce
    cached = client_cache.get(client_id)
    client = cached.client() if cached else None
    if cached and not signed.signed_by(client.secret, request):
        cached = None  # perhaps a rotated secret this process has not seen yet: look again
    if cached:
        _check_active(client)  # the signature was checked just above (an HMAC is not free)
    else:
        # the generation is read before the row, so a change committed in between is noticed
        loaded_generation = client_cache.generation()
        client = _load_client(client_id)
        _check(client, request, signed)
    if settings.REDIS_URL:
        claimed, generation = _claim_nonce_and_read_generation(client, nonce)
        if cached and generation != cached.generation:
            # The cached row predates a change to an ApiClient or Org: check again against the
            # database before answering (the nonce is spent either way, as for any refused call).
            client = _load_client(client_id)
            _check(client, request, signed)
            client_cache.put(client, generation, generation)  # read after `generation`: current
        elif not cached:
            client_cache.put(client, loaded_generation, generation)
    else:
        claimed = claim_nonce(ApiNonce, client=client, nonce=nonce)
    if not claimed:
        raise _unauthorized("nonce_reused", "X-Nonce 已使用过，请勿重放请求")
    refuse_nul(request)
    return client


def _load_client(client_id: str) -> ApiClient | None:
    return ApiClient.objects.select_related("store").filter(client_id=client_id).first()


def _check_active(client) -> None:
    if client is None or not client.is_active:
        raise _unauthorized("invalid_client", "客户端不存在或已停用")


def _check(client, request, signed: SignedHeaders) -> None:
    _check_active(client)
    if not signed.signed_by(client.secret, request):
        raise _unauthorized("invalid_signature", "签名校验失败")


def _claim_nonce_and_read_generation(client: ApiClient, nonce: str) -> tuple[bool, str | None]:
    """With Redis, in one round trip: claim the nonce (SET NX with a TTL, atomic, true the first
    time within NONCE_TTL) and read the generation of API clients (see ClientCache)."""
    nonce_key = cache.make_and_validate_key(f"api-nonce:{client.client_id}:{nonce}")
    pipe = _redis().pipeline(transaction=False)
    pipe.set(nonce_key, 1, nx=True, ex=int(NONCE_TTL.total_seconds()))
    pipe.get(cache.make_and_validate_key(GENERATION_KEY))
    claimed, generation = pipe.execute()
    return bool(claimed), generation.decode() if generation else None


GENERATION_KEY = "api-client-generation"


@functools.cache
def _redis():
    """One Redis client per process over the cache's connection pool (Django's cache builds a
    new client object, ~170 response callbacks, on every call: a tenth of a signed ping's CPU).
    A client is thread-safe, and its pool opens new connections after a fork."""
    return cache._cache.get_client(write=True)


@dataclass(frozen=True)
class _CachedClient:
    generation: str | None
    loaded_at: float
    client_values: tuple
    store_values: tuple

    def client(self) -> ApiClient:
        """A fresh instance per request (the secret already decrypted), so no request ever
        shares a mutable model object with another thread."""
        client = ApiClient.from_db("default", CLIENT_FIELDS, self.client_values)
        client.store = Org.from_db("default", ORG_FIELDS, self.store_values)
        return client


CLIENT_FIELDS = [f.attname for f in ApiClient._meta.concrete_fields]
ORG_FIELDS = [f.attname for f in Org._meta.concrete_fields]


class ClientCache:
    """API clients (row, decrypted secret and store) kept briefly in each process when Redis is
    set, sparing a database query per signed call.

    Any save or delete of an ApiClient or an Org writes a new generation token to Redis (at once
    and again on commit) and empties this process's cache. Each call reads the generation in the
    same round trip as its nonce; a cached entry of an older generation is checked again against
    the database before the call is answered, so a deactivated client or a rotated secret takes
    effect on the next call in every process. MAX_AGE bounds what no signal sees (raw UPDATEs).
    """

    MAX_AGE = 60.0

    def __init__(self):
        self._entries: dict[str, _CachedClient] = {}

    def get(self, client_id: str) -> _CachedClient | None:
        if not settings.REDIS_URL:
            return None
        entry = self._entries.get(client_id)
        if entry and time.monotonic() - entry.loaded_at < self.MAX_AGE:
            return entry
        return None

    def generation(self) -> str | None:
        if not settings.REDIS_URL:
            return None
        generation = _redis().get(cache.make_and_validate_key(GENERATION_KEY))
        return generation.decode() if generation else None

    def put(self, client: ApiClient, loaded: str | None, now: str | None) -> None:
        """Keep `client`, loaded at generation `loaded`, if the generation is still `now`."""
        if now is None:  # nobody has written one yet: start one, cache from a later call
            self._new_generation(only_if_missing=True)
            return
        if loaded != now:
            return
        self._entries[client.client_id] = _CachedClient(
            now,
            time.monotonic(),
            tuple(getattr(client, name) for name in CLIENT_FIELDS),
            tuple(getattr(client.store, name) for name in ORG_FIELDS),
        )

    def invalidate(self) -> None:
        self._entries.clear()
        if settings.REDIS_URL:
            self._new_generation()

    @staticmethod
    def _new_generation(*, only_if_missing: bool = False) -> None:
        # raw strings (not pickled) on both sides: GENERATION_KEY is read in a raw pipeline
        key = cache.make_and_validate_key(GENERATION_KEY)
        _redis().set(key, uuid.uuid4().hex, nx=only_if_missing)


client_cache = ClientCache()


def _invalidate_client_cache(sender, **kwargs):
    # at once (this process, and callers of other processes re-check from now on) and again
    # on commit (a process that re-read the row before the commit re-reads it once more)
    client_cache.invalidate()
    transaction.on_commit(client_cache.invalidate)


def connect_client_cache_signals() -> None:
    """Called from ApiConfig.ready(), so every process that saves an ApiClient or Org (web,
    worker, management command) moves the generation on."""
    for model in (ApiClient, Org):
        uid = f"api-client-cache-{model._meta.label}"
        post_save.connect(_invalidate_client_cache, sender=model, dispatch_uid=uid)
        post_delete.connect(_invalidate_client_cache, sender=model, dispatch_uid=uid)


class SignedRequest(APIKeyHeader):
    """django-ninja auth: the whole signature is checked; request.auth is the ApiClient."""

    param_name = "X-Client-Id"

    def authenticate(self, request, key):
        return verify_request(request)

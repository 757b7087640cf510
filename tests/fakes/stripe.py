"""A fake Stripe API on 127.0.0.1 speaking Stripe's wire format: v1 bodies form-encoded with
bracketed keys (``line_items[0][price]``), answers as Stripe's objects (prices with lookup keys,
checkout and portal sessions, subscriptions whose items carry the period, invoice previews), errors
in Stripe's envelope ``{"error": {"type", "code", "message", "param"}}``. Requests without a known
secret key answer 401, and without a ``Stripe-Version`` of 2025-03-31.basil or later 400.

Tests drive what Stripe would do on its side (a buyer paying, a renewal failing, a subscription
ending) and get the event Stripe would send, signed as Stripe signs webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.serving import ThreadedServer

SECRET_KEY = "sk_test_cxinbox"
WEBHOOK_SECRET = "whsec_test_cxinbox"
MIN_VERSION = "2025-03-31"
API_VERSION = "2025-03-31.basil"
MONTH = 30 * 24 * 3600
YEAR = 365 * 24 * 3600
#: a plan's monthly price in cents; a year costs ten months
AMOUNTS = {"starter": 2900, "professional": 9900, "enterprise": 29900, "extra_agents": 4500}

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}{int(time.time() * 1000) % 100000:05d}"


def decode_form(raw: str) -> dict[str, Any]:
    """Stripe's form encoding: ``a[b][0][c]=v`` is ``{"a": {"b": [{"c": "v"}]}}``."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_listify(node[key]) for key in sorted(node, key=int)]
    return {key: _listify(value) for key, value in node.items()}


def sign(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """The ``Stripe-Signature`` of ``body``: ``t=<time>,v1=<HMAC-SHA256(secret, "<t>.<body>")>``."""
    t = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class StripeError(Exception):
    def __init__(
        self, status: int, message: str, *, code: str | None = None, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param

    def response(self) -> JSONResponse:
        kind = "invalid_request_error"
        error = {"type": kind, "code": self.code, "message": self.message, "param": self.param}
        return JSONResponse({"error": error}, status_code=self.status)


def _missing(kind: str, id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{id}'", code="resource_missing", param=param)


class FakeStripe(ThreadedServer):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.products: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, dict[str, Any]] = {}
        #: every request: (method, path, decoded params, Stripe-Version)
        self.requests: list[tuple[str, str, dict[str, Any], str | None]] = []
        self._seed()
        app = Starlette(
            routes=[
                Route("/v1/prices", self._list_prices, methods=["GET"]),
                Route("/v1/customers", self._create_customer, methods=["POST"]),
                Route("/v1/checkout/sessions", self._create_checkout, methods=["POST"]),
                Route("/v1/billing_portal/sessions", self._create_portal, methods=["POST"]),
                Route("/v1/subscriptions/{id}", self._retrieve_subscription, methods=["GET"]),
                Route("/v1/subscriptions/{id}", self._update_subscription, methods=["POST"]),
                Route("/v1/invoices/create_preview", self._preview_invoice, methods=["POST"]),
            ]
        )
        super().__init__(app, name="fake Stripe")

    # --- catalog ----------------------------------------------------------------------------------

    def _seed(self) -> None:
        plans = self.add_product("CX Inbox")
        extra = self.add_product("CX Inbox extra agents")
        for name, cents in AMOUNTS.items():
            product = extra if name == "extra_agents" else plans
            metadata = {"block_size": "5"} if name == "extra_agents" else {}
            self.add_price(product, f"cxinbox_{name}_month", cents, "month", metadata)
            self.add_price(product, f"cxinbox_{name}_year", cents * 10, "year", metadata)

    def add_product(self, name: str) -> str:
        product_id = new_id("prod")
        self.products[product_id] = {"id": product_id, "object": "product", "name": name, "active": True}
        return product_id

    def add_price(
        self, product: str, lookup_key: str | None, cents: int, interval: str, metadata: dict[str, str]
    ) -> dict[str, Any]:
        price = {
            "id": new_id("price"),
            "object": "price",
            "active": True,
            "billing_scheme": "per_unit",
            "created": int(time.time()),
            "currency": "usd",
            "livemode": False,
            "lookup_key": lookup_key,
            "metadata": dict(metadata),
            "nickname": lookup_key,
            "product": product,
            "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"},
            "type": "recurring",
            "unit_amount": cents,
        }
        self.prices[price["id"]] = price
        return price

    def price_by_key(self, lookup_key: str) -> dict[str, Any]:
        return next(p for p in self.prices.values() if p["lookup_key"] == lookup_key)

    # --- what happens on Stripe's side --------------------------------------------------------------

    def complete_checkout(self, session_id: str, *, status: str = "active") -> dict[str, Any]:
        """The buyer pays: the session completes with a new subscription; answers the event."""
        with self._lock:
            session = self.sessions[session_id]
            now = int(time.time())
            subscription_id = new_id("sub")
            items = [
                self._item(subscription_id, self.prices[line["price"]], int(line.get("quantity", 1)), now)
                for line in session["_line_items"]
            ]
            self.subscriptions[subscription_id] = {
                "id": subscription_id,
                "object": "subscription",
                "billing_cycle_anchor": now,
                "cancel_at": None,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "created": now,
                "currency": "usd",
                "customer": session["customer"],
                "ended_at": None,
                "items": {
                    "object": "list",
                    "data": items,
                    "has_more": False,
                    "url": "/v1/subscription_items",
                },
                "latest_invoice": new_id("in"),
                "livemode": False,
                "metadata": dict(session.get("_subscription_metadata") or {}),
                "start_date": now,
                "status": status,
            }
            session.update(status="complete", payment_status="paid", subscription=subscription_id)
            return event("checkout.session.completed", self._public(session))

    def subscription_event(
        self, subscription_id: str, kind: str = "updated", **changes: Any
    ) -> dict[str, Any]:
        """Stripe changes the subscription (``changes``); answers ``customer.subscription.<kind>``."""
        with self._lock:
            subscription = self.subscriptions[subscription_id]
            subscription.update(changes)
            if kind == "deleted":
                subscription.update(
                    status="canceled", ended_at=int(time.time()), canceled_at=int(time.time())
                )
            return event(f"customer.subscription.{kind}", json.loads(json.dumps(subscription)))

    def payment_failed(self, subscription_id: str) -> dict[str, Any]:
        """A renewal's payment fails: answers ``invoice.payment_failed`` (Stripe's basil invoice)."""
        with self._lock:
            subscription = self.subscriptions[subscription_id]
            amount = sum(i["price"]["unit_amount"] * i["quantity"] for i in subscription["items"]["data"])
            invoice = {
                "id": new_id("in"),
                "object": "invoice",
                "amount_due": amount,
                "amount_paid": 0,
                "attempt_count": 1,
                "billing_reason": "subscription_cycle",
                "currency": "usd",
                "customer": subscription["customer"],
                "hosted_invoice_url": "https://invoice.stripe.com/i/acct_test/inv_test",
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {"metadata": {}, "subscription": subscription_id},
                },
                "status": "open",
            }
            return event("invoice.payment_failed", invoice)

    # --- the API ---------------------------------------------------------------------------------

    async def _call(self, request: Request, handler: Any, *args: Any) -> Response:
        version = request.headers.get("stripe-version")
        params = decode_form(
            request.url.query if request.method == "GET" else (await request.body()).decode()
        )
        self.requests.append((request.method, request.url.path, params, version))
        try:
            if request.headers.get("authorization") != f"Bearer {SECRET_KEY}":
                raise StripeError(401, "Invalid API Key provided")
            if not version or version[:10] < MIN_VERSION:
                raise StripeError(
                    400, f"Stripe-Version {version!r} is older than {API_VERSION}", code="api_version"
                )
            key = request.headers.get("idempotency-key")
            if key and key in self.idempotent:
                return JSONResponse(self.idempotent[key])
            with self._lock:
                answer = handler(params, *args)
            if key and request.method == "POST":
                self.idempotent[key] = answer
            return JSONResponse(answer)
        except StripeError as error:
            return error.response()

    async def _list_prices(self, request: Request) -> Response:
        return await self._call(request, self._prices)

    def _prices(self, params: dict[str, Any]) -> dict[str, Any]:
        found = sorted(self.prices.values(), key=lambda p: p["id"])
        if "lookup_keys" in params:
            found = [p for p in found if p["lookup_key"] in params["lookup_keys"]]
        if params.get("active") == "true":
            found = [p for p in found if p["active"]]
        if after := params.get("starting_after"):
            found = [p for p in found if p["id"] > after]
        limit = int(params.get("limit", 10))
        page = [dict(p) for p in found[:limit]]
        if "data.product" in (params.get("expand") or []):
            for price in page:
                price["product"] = self.products[price["product"]]
        return {"object": "list", "data": page, "has_more": len(found) > limit, "url": "/v1/prices"}

    async def _create_customer(self, request: Request) -> Response:
        return await self._call(request, self._customer)

    def _customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": new_id("cus"),
            "object": "customer",
            "email": params.get("email"),
            "name": params.get("name"),
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
            "livemode": False,
        }
        self.customers[customer["id"]] = customer
        return customer

    async def _create_checkout(self, request: Request) -> Response:
        return await self._call(request, self._checkout)

    def _checkout(self, params: dict[str, Any]) -> dict[str, Any]:
        for required in ("mode", "success_url", "line_items"):
            if not params.get(required):
                raise StripeError(
                    400, f"Missing required param: {required}.", code="parameter_missing", param=required
                )
        customer = params.get("customer")
        if customer and customer not in self.customers:
            raise _missing("customer", customer, "customer")
        for line in params["line_items"]:
            if line.get("price") not in self.prices:
                raise _missing("price", str(line.get("price")), "line_items[0][price]")
        session_id = new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "customer": customer,
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "mode": params["mode"],
            "payment_status": "unpaid",
            "status": "open",
            "subscription": None,
            "success_url": params["success_url"],
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "_line_items": params["line_items"],
            "_subscription_metadata": (params.get("subscription_data") or {}).get("metadata"),
        }
        self.sessions[session_id] = session
        return self._public(session)

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    async def _create_portal(self, request: Request) -> Response:
        return await self._call(request, self._portal)

    def _portal(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = params.get("customer")
        if not customer:
            raise StripeError(
                400, "Missing required param: customer.", code="parameter_missing", param="customer"
            )
        if customer not in self.customers:
            raise _missing("customer", customer, "customer")
        session_id = new_id("bps")
        portal = {
            "id": session_id,
            "object": "billing_portal.session",
            "customer": customer,
            "livemode": False,
            "return_url": params.get("return_url"),
            "url": f"https://billing.stripe.com/p/session/{session_id}",
        }
        self.portal_sessions[session_id] = portal
        return portal

    async def _retrieve_subscription(self, request: Request) -> Response:
        return await self._call(request, self._subscription, request.path_params["id"])

    def _subscription(self, _params: dict[str, Any], subscription_id: str) -> dict[str, Any]:
        if subscription_id not in self.subscriptions:
            raise _missing("subscription", subscription_id)
        return json.loads(json.dumps(self.subscriptions[subscription_id]))

    async def _update_subscription(self, request: Request) -> Response:
        return await self._call(request, self._update, request.path_params["id"])

    def _update(self, params: dict[str, Any], subscription_id: str) -> dict[str, Any]:
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            raise _missing("subscription", subscription_id)
        if subscription["status"] == "canceled":
            raise StripeError(
                400, "A canceled subscription can only update its cancellation_details and metadata."
            )
        if "cancel_at_period_end" in params:
            subscription["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
        items = subscription["items"]["data"]
        for change in params.get("items") or []:
            if "id" in change:
                item = next((i for i in items if i["id"] == change["id"]), None)
                if item is None:
                    raise _missing("subscription_item", change["id"], "items[0][id]")
                if "price" in change:
                    item["price"] = dict(self.prices[change["price"]])
                if "quantity" in change:
                    item["quantity"] = int(change["quantity"])
            else:
                price = self.prices.get(change.get("price", ""))
                if price is None:
                    raise _missing("price", str(change.get("price")), "items[0][price]")
                items.append(
                    self._item(subscription_id, price, int(change.get("quantity", 1)), int(time.time()))
                )
        return json.loads(json.dumps(subscription))

    @staticmethod
    def _item(subscription_id: str, price: dict[str, Any], quantity: int, start: int) -> dict[str, Any]:
        length = YEAR if price["recurring"]["interval"] == "year" else MONTH
        return {
            "id": new_id("si"),
            "object": "subscription_item",
            "created": start,
            "current_period_start": start,
            "current_period_end": start + length,
            "metadata": {},
            "price": dict(price),
            "quantity": quantity,
            "subscription": subscription_id,
        }

    async def _preview_invoice(self, request: Request) -> Response:
        return await self._call(request, self._preview)

    def _preview(self, params: dict[str, Any]) -> dict[str, Any]:
        """The next invoice with ``subscription_details.items`` applied now: each changed item's
        unused time credited, its remaining time at the new price charged (prorations), then the
        next period of every item."""
        subscription_id = params.get("subscription")
        subscription = self.subscriptions.get(subscription_id or "")
        if subscription is None:
            raise _missing("subscription", str(subscription_id), "subscription")
        now = int(time.time())
        changes = {
            c["id"]: c for c in (params.get("subscription_details") or {}).get("items") or [] if "id" in c
        }
        lines: list[dict[str, Any]] = []
        for item in subscription["items"]["data"]:
            change = changes.get(item["id"])
            new_price = self.prices[change["price"]] if change and "price" in change else item["price"]
            quantity = int(change.get("quantity", item["quantity"])) if change else item["quantity"]
            start, end = item["current_period_start"], item["current_period_end"]
            if change:
                left = max(0.0, (end - now) / (end - start))
                old = round(-item["price"]["unit_amount"] * item["quantity"] * left)
                new = round(new_price["unit_amount"] * quantity * left)
                lines.append(
                    self._line(f"Unused time on {item['price']['lookup_key']}", old, now, end, item, True)
                )
                lines.append(
                    self._line(f"Remaining time on {new_price['lookup_key']}", new, now, end, item, True)
                )
            length = end - start
            lines.append(
                self._line(
                    f"{quantity} × {new_price['lookup_key']}",
                    new_price["unit_amount"] * quantity,
                    end,
                    end + length,
                    item,
                    False,
                )
            )
        total = sum(line["amount"] for line in lines)
        return {
            "id": f"upcoming_{subscription_id}",
            "object": "invoice",
            "amount_due": max(0, total),
            "currency": "usd",
            "customer": subscription["customer"],
            "lines": {
                "object": "list",
                "data": lines,
                "has_more": False,
                "url": "/v1/invoices/upcoming/lines",
            },
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": subscription_id},
            },
            "subtotal": total,
            "total": total,
        }

    @staticmethod
    def _line(
        description: str, amount: int, start: int, end: int, item: dict[str, Any], proration: bool
    ) -> dict[str, Any]:
        return {
            "id": new_id("il_tmp"),
            "object": "line_item",
            "amount": amount,
            "currency": "usd",
            "description": description,
            "period": {"start": start, "end": end},
            "parent": {
                "type": "subscription_item_details",
                "subscription_item_details": {
                    "proration": proration,
                    "subscription": item["subscription"],
                    "subscription_item": item["id"],
                },
            },
            "quantity": item["quantity"],
        }


def event(kind: str, obj: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    """A Stripe event around ``obj``, as Stripe posts it to a webhook endpoint."""
    return {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }

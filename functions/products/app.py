"""Invoicing API v1: products (§7.8) and their field search (§7.8.1)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.products import SEARCH_FIELDS, Product, ProductCreate, ProductUpdate
from billing.http.api import Api, parse_ref
from billing.http.listing import list_response, search_response
from billing.store.products import products
from billing.wire.codec import Format
from billing.wire.views import products as views

api = Api()


@api.route("/api/v1/products.{fmt}", "GET")
def list_products(fmt: Format) -> Response[Any]:
    return list_response(api, fmt, "products", products, views.product)


@api.route("/api/v1/products.{fmt}", "POST")
def create_product(fmt: Format) -> Response[Any]:
    fields = api.parse("product", ProductCreate).changes()
    record = products.insert(api.principal.tenant_id, lambda new_id: Product(id=new_id, **fields))
    return api.created(fmt, "product", views.product(record), f"/api/v1/products/{record.id}")


@api.route("/api/v1/products/search.{fmt}", "GET")
def search_products(fmt: Format) -> Response[Any]:
    return search_response(api, fmt, "products", products, SEARCH_FIELDS, views.product)


@api.route("/api/v1/products/<ref>", "GET")
def get_product(ref: str) -> Response[Any]:
    product_id, fmt = parse_ref(ref)
    return api.respond(fmt, "product", views.product(products.get(api.principal.tenant_id, product_id)))


@api.route("/api/v1/products/<ref>", "PUT")
def update_product(ref: str) -> Response[Any]:
    product_id, fmt = parse_ref(ref)
    changes = api.parse("product", ProductUpdate).changes()
    record = products.update(api.principal.tenant_id, product_id, changes)
    return api.respond(fmt, "product", views.product(record))


@api.route("/api/v1/products/<ref>", "DELETE")
def delete_product(ref: str) -> Response[Any]:
    product_id, fmt = parse_ref(ref)
    tenant = api.principal.tenant_id
    record = products.get(tenant, product_id)
    products.delete(tenant, product_id)
    return api.respond(fmt, "product", views.product(record))


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)

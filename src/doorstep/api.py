"""The API's routers, one per app, mounted on the shared NinjaAPI (`doorstep.core.api`)."""

from doorstep.core.api import api

for app in (
    "centers",
    "accounts",
    "activities",
    "rooms",
    "visits",
    "meals",
    "figures",
    "inbox",
    "deliberation",
    "legislation",
    "cases",
):
    api.add_router("/", f"doorstep.{app}.api.router")

__all__ = ["api"]

"""Canteens, their daily menus, subsidy bands and residents' meal orders (docs/meals.md).

Money is kept in fen (integer hundredths of a yuan). An order records what was listed, what
the district's subsidy took off and what is due, so subsidy totals per district and month
add up from the orders themselves.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Service(models.TextChoices):
    BREAKFAST = "breakfast", _("Breakfast")
    LUNCH = "lunch", _("Lunch")
    DINNER = "dinner", _("Dinner")


class Eligibility(models.Model):
    """Staff saw, once at the counter, that a household member is of the age the elderly
    price asks (a birth year on a card; the card's number is not written down)."""

    person = models.OneToOneField(
        "accounts.Person", on_delete=models.CASCADE, related_name="meal_eligibility"
    )
    confirmed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    center = models.ForeignKey(
        "centers.Center", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    confirmed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("confirmed eligibility")
        verbose_name_plural = _("confirmed eligibilities")

    def __str__(self) -> str:
        return str(self.person_id)


class PriceGroup(models.TextChoices):
    STANDARD = "standard", _("Standard")
    ELDERLY = "elderly", _("Elderly (subsidised)")
    RIDER = "rider", _("Riders and couriers")
    STAFF = "staff", _("Center staff")


class Mode(models.TextChoices):
    PICKUP = "pickup", _("Pick up at the counter")
    DELIVERY = "delivery", _("Delivered home")


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Ordered")
    CANCELLED = "cancelled", _("Cancelled")
    COLLECTED = "collected", _("Picked up")
    DELIVERED = "delivered", _("Delivered")
    NOT_HOME = "not_home", _("Not at home")
    REFUSED = "refused", _("Refused")
    NO_SHOW = "no_show", _("Never collected")


class Payment(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    QR = "qr", _("The center's QR code")
    ONLINE = "online", _("Online")


class Source(models.TextChoices):
    ARTICLE = "article", _("The newspaper article")
    SYNTHETIC = "synthetic", _("Synthetic example")
    MANUAL = "manual", _("Entered by staff")


class Canteen(models.Model):
    """A center's own kitchen, or a meal point whose meals a caterer cooks and delivers."""

    class Kind(models.TextChoices):
        KITCHEN = "kitchen", _("Community canteen (own kitchen)")
        MEAL_POINT = "meal_point", _("Meal point (served by a caterer)")

    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="canteens")
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("name in English"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.KITCHEN)
    caterer = models.CharField(_("caterer"), max_length=80, blank=True)
    # The caterer's accounts, or a courier station's that delivers the meals (as the article
    # proposes): they see this canteen's production sheet, counter and rounds and mark its
    # orders served, nothing else (no other canteen, no other back-office page).
    caterer_accounts = models.ManyToManyField(
        "accounts.User",
        blank=True,
        related_name="catered_canteens",
        verbose_name=_("accounts of the caterer or courier station"),
    )
    delivers = models.BooleanField(_("delivers home"), default=False)
    delivery_fee_fen = models.PositiveIntegerField(_("delivery fee (fen)"), default=0)
    delivery_min_orders = models.PositiveSmallIntegerField(
        _("orders an estate needs for a delivery round"), default=1
    )
    # The estates (小区) the canteen delivers to: an order's address must name one of them.
    delivery_estates = models.JSONField(_("estates delivered to"), default=list, blank=True)
    # Ordering and changes close this many minutes before a service (09:30 for 11:00 lunch).
    cut_off_minutes = models.PositiveSmallIntegerField(
        _("orders close (minutes before)"), default=90
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_detail = models.CharField(_("source detail"), max_length=300, blank=True)
    external_key = models.CharField(max_length=80, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = _("canteen")
        verbose_name_plural = _("canteens")

    def __str__(self) -> str:
        return self.name


class Menu(models.Model):
    """One service (breakfast, lunch or dinner) of one day at a canteen."""

    canteen = models.ForeignKey(Canteen, on_delete=models.CASCADE, related_name="menus")
    day = models.DateField(_("day"))
    service = models.CharField(_("service"), max_length=10, choices=Service.choices)
    serves_at = models.DateTimeField(_("served from"))
    cut_off_at = models.DateTimeField(_("orders and changes close at"))
    published = models.BooleanField(_("published"), default=False)
    # Published by the worker at this time, if not before (a canteen publishes by a set hour).
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    synthetic = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("menu")
        verbose_name_plural = _("menus")
        constraints = [
            models.UniqueConstraint(fields=["canteen", "day", "service"], name="one_menu_a_service")
        ]
        indexes = [models.Index(fields=["day", "published"], name="menu_day")]

    def __str__(self) -> str:
        return f"{self.canteen} {self.day} {self.service}"


class Dish(models.Model):
    """A dish or a set meal a canteen cooks (一荤两素一汤 is one set)."""

    class Tag(models.TextChoices):
        SOFT = "soft", _("Soft")
        LOW_SALT = "low_salt", _("Low salt")
        LOW_SUGAR = "low_sugar", _("Low sugar")
        VEGETARIAN = "vegetarian", _("Vegetarian")
        HALAL = "halal", _("Halal")

    canteen = models.ForeignKey(Canteen, on_delete=models.CASCADE, related_name="dishes")
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    is_set = models.BooleanField(_("set meal"), default=False)
    tags = models.JSONField(_("dietary tags"), default=list, blank=True)
    allergens = models.CharField(_("allergens"), max_length=120, blank=True)
    # Re-encoded on upload (no EXIF, core/photos.py), served by a view.
    photo = models.FileField(_("photo"), upload_to="dishes/", blank=True)
    photo_type = models.CharField(max_length=20, blank=True)
    synthetic = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("dish")
        verbose_name_plural = _("dishes")

    def __str__(self) -> str:
        return self.name

    @property
    def tag_labels(self) -> list[str]:
        return [str(Dish.Tag(t).label) for t in self.tags if t in Dish.Tag.values]


class MenuItem(models.Model):
    """A dish on a menu, its list prices and its portions (None: as many as are ordered)."""

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="items")
    dish = models.ForeignKey(Dish, on_delete=models.PROTECT, related_name="+")
    price_fen = models.PositiveIntegerField(_("price (fen)"))
    rider_price_fen = models.PositiveIntegerField(_("riders' price (fen)"), null=True, blank=True)
    staff_price_fen = models.PositiveIntegerField(_("staff price (fen)"), null=True, blank=True)
    portions = models.PositiveIntegerField(_("portions"), null=True, blank=True)
    taken = models.PositiveIntegerField(_("portions ordered"), default=0)

    class Meta:
        verbose_name = _("menu item")
        verbose_name_plural = _("menu items")
        constraints = [
            models.UniqueConstraint(fields=["menu", "dish"], name="dish_once_a_menu"),
            models.CheckConstraint(
                condition=models.Q(portions__isnull=True)
                | models.Q(taken__lte=models.F("portions")),
                name="menuitem_never_oversold",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dish} ({self.menu})"

    def list_price(self, group: str) -> int:
        if group == PriceGroup.RIDER and self.rider_price_fen is not None:
            return self.rider_price_fen
        if group == PriceGroup.STAFF and self.staff_price_fen is not None:
            return self.staff_price_fen
        return self.price_fen

    @property
    def left(self) -> int | None:
        return None if self.portions is None else max(self.portions - self.taken, 0)


class SubsidyBand(models.Model):
    """A district's meal subsidy for an age band, from a date (a policy table, not code).

    An elderly resident's meal costs its list price less `amount_fen` (never below zero)
    when the band of their age on the day of the meal holds in the canteen's district.
    """

    district = models.ForeignKey(
        "centers.Region",
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"level": "district"},
        verbose_name=_("district"),
    )
    age_min = models.PositiveSmallIntegerField(_("from age"))
    age_max = models.PositiveSmallIntegerField(_("to age (inclusive)"), null=True, blank=True)
    amount_fen = models.PositiveIntegerField(_("subsidy per meal (fen)"))
    effective_from = models.DateField(_("in force from"))
    effective_to = models.DateField(_("in force until (inclusive)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_detail = models.CharField(_("source detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("meal subsidy band")
        verbose_name_plural = _("meal subsidy bands")
        indexes = [models.Index(fields=["district", "effective_from"], name="subsidy_district")]

    def __str__(self) -> str:
        return f"{self.district_id} {self.age_min}-{self.age_max or ''}: {self.amount_fen}"


class DeliveryAddress(models.Model):
    """Where a household's meals are delivered: its estate and the rest of the address.
    Shown masked in lists; asked only to deliver meals."""

    account = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="meal_address"
    )
    estate = models.CharField(_("estate"), max_length=60)
    detail = models.CharField(_("building and room"), max_length=80)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("delivery address")
        verbose_name_plural = _("delivery addresses")

    def __str__(self) -> str:
        return self.estate


class Order(models.Model):
    """One meal for one person of a household, for one menu."""

    public_id = models.CharField(max_length=20, unique=True)
    menu = models.ForeignKey(Menu, on_delete=models.PROTECT, related_name="orders")
    account = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("accounts.Person", on_delete=models.PROTECT, related_name="+")
    group = models.CharField(_("price group"), max_length=10, choices=PriceGroup.choices)
    mode = models.CharField(_("how"), max_length=10, choices=Mode.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )
    # The address as it was when ordered (for the round sheet); emptied once served.
    estate = models.CharField(_("estate"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=80, blank=True)
    list_fen = models.PositiveIntegerField(_("list price (fen)"))
    subsidy_fen = models.PositiveIntegerField(_("subsidy (fen)"), default=0)
    delivery_fee_fen = models.PositiveIntegerField(_("delivery fee (fen)"), default=0)
    due_fen = models.PositiveIntegerField(_("to pay (fen)"))
    idempotency_key = models.CharField(max_length=80, blank=True)
    placed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    served_at = models.DateTimeField(_("served at"), null=True, blank=True)
    served_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    paid_with = models.CharField(_("paid with"), max_length=8, choices=Payment.choices, blank=True)

    class Meta:
        verbose_name = _("meal order")
        verbose_name_plural = _("meal orders")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="meal_order_key_once",
            ),
            # One live order per person and menu: a change edits it, it is not a second one.
            models.UniqueConstraint(
                fields=["menu", "person"],
                condition=models.Q(status="placed"),
                name="one_meal_a_person_a_service",
            ),
        ]
        indexes = [
            models.Index(fields=["menu", "status"], name="order_menu_status"),
            models.Index(fields=["account", "created_at"], name="order_account"),
        ]

    def __str__(self) -> str:
        return self.public_id


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(MenuItem, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(_("quantity"))
    unit_fen = models.PositiveIntegerField(_("unit list price (fen)"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "item"], name="item_once_an_order")]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.item_id}"


class CounterSale(models.Model):
    """A meal sold at the counter to someone who walked in without ordering: one tap by
    price group. Nothing about the person is recorded but the group."""

    canteen = models.ForeignKey(Canteen, on_delete=models.CASCADE, related_name="counter_sales")
    group = models.CharField(_("price group"), max_length=10, choices=PriceGroup.choices)
    at = models.DateTimeField()
    day = models.DateField()
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("counter sale")
        verbose_name_plural = _("counter sales")
        indexes = [models.Index(fields=["canteen", "day"], name="counter_sale_day")]

    def __str__(self) -> str:
        return f"{self.canteen_id} {self.day} {self.group}"

"""Visitor groups and the service vocabulary (translatable; codes are stable)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Group(models.TextChoices):
    """Who walked in, as far as the center knows (tally buttons, or the resident's own pick)."""

    # A context of their own: the site-wide "Elderly" is the theme (为老服务), not a person.
    ELDERLY = "elderly", pgettext_lazy("visitor group", "Elderly")
    CHILD = "child", pgettext_lazy("visitor group", "Child")
    ADULT = "adult", pgettext_lazy("visitor group", "Adult")
    RIDER = "rider", pgettext_lazy("visitor group", "Rider or courier")
    UNKNOWN = "unknown", pgettext_lazy("visitor group", "Not stated")


class Channel(models.TextChoices):
    """How a visit was recorded."""

    QR = "qr", _("QR poster scan")
    TALLY = "tally", _("Staff tally")
    ACTIVITY = "activity", _("Activity check-in")
    API = "api", _("API")
    SYNTHETIC = "synthetic", _("Synthetic")


class Service(models.TextChoices):
    CANTEEN_MEAL = "canteen_meal", _("Meal at the canteen")
    MEAL_DELIVERY = "meal_delivery", _("Meal delivered home")
    BLOOD_PRESSURE = "blood_pressure", _("Blood-pressure check")
    READING_ROOM = "reading_room", _("Reading room use")
    BOOK_LOAN = "book_loan", _("Book loan")
    ELDERLY_FITNESS = "elderly_fitness", _("Elderly fitness session")
    POLICY_CONSULTATION = "policy_consultation", _("Policy consultation")
    LEGAL_CONSULTATION = "legal_consultation", _("Legal consultation")
    EMPLOYMENT_CONSULTATION = "employment_consultation", _("Employment consultation")
    ONE_NET_ASSISTANCE = "one_net_assistance", _("One-Net-Service assistance")
    HEALTH_CERTIFICATE = "health_certificate", _("Health-certificate application help")
    MEETING_ROOM = "meeting_room", _("Meeting room use")
    RIDER_REST = "rider_rest", _("Rider rest")
    RIDER_CHARGING = "rider_charging", _("Rider charging or battery swap")
    SHOWER_LOCKER = "shower_locker", _("Shower or locker use")
    OTHER = "other", _("Other")


class ServiceSource(models.TextChoices):
    QUICK = "quick", _("Quick entry")
    IMPORT = "import", _("CSV import")
    API = "api", _("API")
    SYNTHETIC = "synthetic", _("Synthetic")
    ORDER = "order", _("Meal order served")

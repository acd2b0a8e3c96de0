import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
application = get_wsgi_application()

# Load the search dictionaries before the first request, not during it.
from doorstep.centers.search import warm_up  # noqa: E402

warm_up()

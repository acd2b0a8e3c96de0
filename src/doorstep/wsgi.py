import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doorstep.settings")
application = get_wsgi_application()

# Load the search dictionaries and the text index before the first request, not during it.
from doorstep.centers import textindex  # noqa: E402
from doorstep.centers.search import warm_up  # noqa: E402

warm_up()
textindex.warm_up()

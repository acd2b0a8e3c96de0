"""What `make run` serves: the whole site, with the lean entries for the two rush paths first.

    granian --interface wsgi doorstep.served:application

`doorstep.visits.fastwsgi` answers the walk-in check-in and hands everything else to
`doorstep.activities.rushwsgi`, which answers registrations and hands the rest to Django
(docs/performance.md, "Registration rush"; docs/visits.md, "Speed"). Importing
`doorstep.wsgi` first runs its start-up work (the search dictionaries and the text index),
so no worker's first search pays for it.
"""

from doorstep import wsgi  # noqa: F401  (start-up work)
from doorstep.visits.fastwsgi import application

__all__ = ["application"]

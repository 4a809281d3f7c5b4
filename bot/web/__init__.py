"""One HTTP listener when configured (``NETZWERKBOT_HTTP``): webhook, health, metrics.

``server.Listener`` serves whatever routes it is given; each module here contributes its
own (``health.routes``, ``metrics.routes``, ``webhook.routes``), and ``bot.app`` puts them
together in ``post_init``. Adding an endpoint (e.g. calendar feeds) means one more module
with a ``routes(app)`` function and one more line there.
"""

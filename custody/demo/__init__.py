"""The demo chain loaded by ``manage.py seed_demo``: reference data (``data``), a small scenario
builder (``builder``) and the lots (``scenarios``). It writes custody only through
``custody.services``; nothing in ``custody`` imports it but the ``seed_demo`` and ``demo_tamper``
commands."""

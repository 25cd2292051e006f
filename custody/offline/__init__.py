"""Offline checks of a certificate of origin, its ledger export and its audit pack, for
``python -m custody.verify``. Pure: the standard library, ``cryptography`` and the pure core
(``credentials``, ``merkle``, ``notes``), so that an auditor runs them with no Django, no
database and no network.

* ``pack.py`` reads an audit pack (a zip from anyone, so hostile until checked) into memory;
* ``ledger.py`` parses the ledger CSV and checks its rows: order, chains, the Merkle root;
* ``certificate.py`` runs every check and gathers the report, one line per check;
* ``readme.py`` is the pack's README.txt: what an auditor runs.
"""

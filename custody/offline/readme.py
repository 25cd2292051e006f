"""The audit pack's ``README.txt``: what the pack holds and the exact commands an auditor runs
to verify it offline. Written here, beside the checks it describes, so that the two change
together."""

README = """\
Audit pack for lot {lot}, certificate of origin {certificate}
{underline}

Issued {issued_at} for {organization}: {outcome} under origin policy {policy}. The ledger
export holds {events} events, committed to by the transparency log's checkpoint of {tree_size}
leaves.

This zip is everything needed to check the certificate without trusting the platform that
issued it, and without a network connection:

  certificate.jwt        the certificate: a W3C Verifiable Credential (a UNTP Digital Product
                         Passport 0.6.0) signed as a VC-JWT (EdDSA, Ed25519)
  certificate.pdf        the same statement for people, with its QR code to the public page
  ledger.csv             every custody event upstream of lot {lot}, one row each, in
                         transparency-log order; the credential names this file's SHA-256
  checkpoint.note        the signed checkpoint of the transparency log the certificate was
                         issued against (a C2SP signed note)
  log-key.txt            the log's public verifier key
  did.json               the issuer's DID document: the public key that signed the credential
  inclusion-proofs.json  for each row of ledger.csv, the proof that its event is a leaf of the
                         log at the checkpoint (RFC 6962 / RFC 9162 inclusion proofs)
  evidence.json          the SHA-256 of every evidence document the events name
  README.txt             this file

Verify it
---------
You need Python 3.11 or later, the package "cryptography" (pip install cryptography) and the
verifier: the folder "custody" of the ledger's source code (its verify.py, credentials.py,
merkle.py, notes.py and offline/). It loads no Django, opens no database and uses no network.
From the folder that holds "custody", with this zip beside it (no need to unzip it):

  python -m custody.verify --pack audit-pack-{lot}.zip --key did.json

where did.json is the issuer's DID document fetched from the platform itself, at
{base_url}/.well-known/did.json (the credential's issuer is {did}). Leave out --key to use
the pack's own did.json (the report then says so): that proves the pack is consistent, not who
signed it. Likewise --log-key log-key.txt, fetched from {base_url}/.well-known/ledger-log-key,
instead of the pack's log-key.txt. To check another
copy of the credential or of the export against the pack, add it:

  python -m custody.verify certificate.jwt --key did.json --pack audit-pack-{lot}.zip
  python -m custody.verify certificate.jwt --key did.json --events ledger.csv

What it checks, one line each ("OK: ..." or "FAILED: ..."):
  - the credential's signature, with the key its header names in the DID document;
  - ledger.csv is the export the credential names (SHA-256), with as many rows as it states;
  - the rows are in log-index order, and each lot's events chain (each row's prev_hash is the
    event_hash of the lot's event before it);
  - the RFC 6962 Merkle root over the rows' event hashes is the credential's
    upstreamMerkleRoot, and lot {lot} is among the rows;
  - every origin country the credential states is the country of a pickup in ledger.csv;
  - checkpoint.note is the checkpoint the credential states, and the log's key signed it;
  - every row's event is a leaf of that checkpoint's tree, at its log index;
  - evidence.json lists exactly the evidence digests of the rows.

The last line is "VERIFIED: certificate {certificate} for lot {lot}, <outcome> under <policy>"
and the exit code 0, or "NOT VERIFIED: <n> check(s) failed" and the exit code 1.

Verify it online
----------------
Whether the certificate was revoked or superseded since, whether today's ledger still gives
the same Merkle root and whether today's log is consistent with the checkpoint, the platform's
public page says, at the credential's id and the address in the PDF's QR code:
{verify_url}

What it may leave out
---------------------
The pack was built for {organization}. Of lots it may not see, ledger.csv leaves the facility,
its GLN and the mass empty; every hash, time, country and log index is there, so every check
above holds all the same.
"""


def pack_readme(lot_code: str, certificate_id: str, **about: object) -> str:
    """The README of the pack of ``certificate_id``. ``about`` fills in what the issuer knows:
    ``issued_at``, ``organization``, ``outcome``, ``policy``, ``events``, ``tree_size``,
    ``base_url``, ``did``, ``verify_url``."""
    title = f"Audit pack for lot {lot_code}, certificate of origin {certificate_id}"
    return README.format(
        lot=lot_code, certificate=certificate_id, underline="=" * len(title), **about
    )

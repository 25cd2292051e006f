"""Data only, one module per concept: lots and their manifests (``lots``), the ledger of custody
events (``events``), transformations and lot links (``genealogy``), origin policies and stored
verdicts (``policies``), the policies' immutable versions (``policy_versions``), the webhook
outbox (``webhooks``), idempotency records, which partner may see which lot, with each
partner's event feed (``visibility``), the accepted retroactive certifications that verdicts
cite (``acceptances``), the transparency log over every event (``log``), the certificates of
origin with the acts that revoke or supersede them (``certificates``) and the jobs that produce
certificates, ledger exports and audit packs (``reports``). The vocabulary they
share (materials, statuses, kinds) is ``custody.kinds``."""

from ..kinds import (
    CLOSED_STATUSES,
    DRIVE_CATEGORIES,
    GENESIS_HASH,
    SOURCE_MATERIALS,
    AssetCategory,
    EventKind,
    LotStatus,
    Material,
    ResidueKind,
    SanitizationMethod,
    TransformationKind,
)
from .acceptances import CertificationAcceptance
from .certificates import Certificate, CertificateAct, CertificateAction
from .events import CustodyEvent
from .genealogy import LotLink, Transformation
from .idempotency import IdempotencyRecord
from .log import LogBatch, LogCheckpoint, LogEntry, LogRun, LogTile
from .lots import MASS, Asset, Lot
from .policies import (
    CertificationRequirement,
    DriveContentWindow,
    LotVerdict,
    OriginPolicy,
    VerdictOutcome,
    YieldWindow,
)
from .policy_versions import OriginPolicyVersion, PolicyTerms, content_sha256, policy_content
from .reports import Report, ReportKind, ReportStatus
from .visibility import FeedEntry, LotVisibility
from .webhooks import DeliveryStatus, WebhookDelivery, WebhookSubscription

__all__ = [
    "CLOSED_STATUSES",
    "DRIVE_CATEGORIES",
    "GENESIS_HASH",
    "MASS",
    "SOURCE_MATERIALS",
    "Asset",
    "AssetCategory",
    "Certificate",
    "CertificateAct",
    "CertificateAction",
    "CertificationAcceptance",
    "CertificationRequirement",
    "CustodyEvent",
    "DeliveryStatus",
    "DriveContentWindow",
    "EventKind",
    "FeedEntry",
    "IdempotencyRecord",
    "LogBatch",
    "LogCheckpoint",
    "LogEntry",
    "LogRun",
    "LogTile",
    "Lot",
    "LotLink",
    "LotStatus",
    "LotVerdict",
    "LotVisibility",
    "Material",
    "OriginPolicy",
    "OriginPolicyVersion",
    "PolicyTerms",
    "Report",
    "ReportKind",
    "ReportStatus",
    "ResidueKind",
    "SanitizationMethod",
    "Transformation",
    "TransformationKind",
    "VerdictOutcome",
    "WebhookDelivery",
    "WebhookSubscription",
    "YieldWindow",
    "content_sha256",
    "policy_content",
]

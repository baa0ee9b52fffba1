"""The ledger's domain (docs/rules.md#domain): ``db`` and every SQLAlchemy model.

Amounts are ``Numeric`` (exact); times are stored in UTC. Writes go through
the rooms' operations (``evaluation/<room>/operations.py``, docs/architecture.md#rooms),
never straight from a view.
"""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

from models.annual import AnnualCalibration, AnnualPeriod, AnnualSource  # noqa: E402
from models.cadres import Cadre, CadreRecord, KeyProject, ProjectUpdate  # noqa: E402
from models.evidence import Evidence, EvidenceLink  # noqa: E402
from models.history import HistoryCheckpoint, HistoryEvent  # noqa: E402
from models.imports import PendingImport  # noqa: E402
from models.ledger import Adjustment, RankingSnapshot, Score, Veto  # noqa: E402
from models.periods import Period  # noqa: E402
from models.publication import Objection, PublicationWindow, ToleranceCase  # noqa: E402
from models.reporting import Claim, ReportingReopening  # noqa: E402
from models.reviews import ReviewCase, ReviewRecord  # noqa: E402
from models.schemes import Dimension, Indicator, Scheme  # noqa: E402
from models.settings import Setting  # noqa: E402
from models.surveys import (  # noqa: E402
    Survey,
    SurveyBallot,
    SurveyCode,
    SurveyGroup,
    SurveyOption,
    SurveyTarget,
)
from models.units import AnalysisGroup, Unit  # noqa: E402
from models.users import ROLES, ApiToken, LoginFailure, User  # noqa: E402
from models.weights import WeightJudgement  # noqa: E402

__all__ = [
    "ROLES",
    "AnalysisGroup",
    "AnnualCalibration",
    "AnnualPeriod",
    "AnnualSource",
    "Adjustment",
    "ApiToken",
    "Base",
    "Cadre",
    "CadreRecord",
    "Claim",
    "Dimension",
    "Evidence",
    "EvidenceLink",
    "HistoryCheckpoint",
    "HistoryEvent",
    "Indicator",
    "KeyProject",
    "LoginFailure",
    "Objection",
    "PendingImport",
    "Period",
    "ProjectUpdate",
    "PublicationWindow",
    "RankingSnapshot",
    "ReportingReopening",
    "ReviewCase",
    "ReviewRecord",
    "Scheme",
    "Setting",
    "ToleranceCase",
    "Score",
    "Survey",
    "SurveyBallot",
    "SurveyCode",
    "SurveyGroup",
    "SurveyOption",
    "SurveyTarget",
    "Unit",
    "User",
    "Veto",
    "WeightJudgement",
    "db",
]

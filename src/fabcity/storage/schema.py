"""The one SQL schema, shared by SQLite (embedded) and PostgreSQL (production).

Columns under "search" on `node` are derived on every write (see directory.writer) so that the
search engine can answer from B-tree indexes on both backends without extensions.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

district = Table(
    "district",
    metadata,
    Column("code", String(10), primary_key=True, comment="MOIS code: 5 digits for a gu, 10 for a dong"),
    Column("level", String(4), nullable=False, comment="gu | dong"),
    Column("kostat_code", String(8), nullable=False, comment="KOSTAT code: 5 (gu) or 7 (dong) digits"),
    Column("kostat_code8", String(8)),
    Column("parent_code", String(10), index=True),
    Column("name_ko", String(40), nullable=False),
    Column("name_en", String(80)),
    Column("area_km2", Float),
    Column("center_lat", Float, nullable=False),
    Column("center_lon", Float, nullable=False),
    Column("geometry", Text, nullable=False, comment="GeoJSON geometry, WGS84"),
)

district_stat = Table(
    "district_stat",
    metadata,
    Column("district_code", String(10), ForeignKey("district.code"), primary_key=True),
    Column("indicator", String(60), primary_key=True),
    Column("period", String(10), primary_key=True, comment="e.g. 2018 or 2025Q1"),
    Column("value", Float, nullable=False),
    Column("unit", String(20), nullable=False),
    Column("source_id", String(40), nullable=False),
)

station = Table(
    "station",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("name_ko", String(60), nullable=False),
    Column("name_en", String(120)),
    Column("lines", JSON, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("cell", BigInteger, nullable=False, index=True),
    Column("gu_code", String(10)),
    Column("dong_code", String(10)),
)

cluster_zone = Table(
    "cluster_zone",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name_ko", String(80), nullable=False),
    Column("name_en", String(120), nullable=False),
    Column("industry", String(40), nullable=False),
    Column("dong_codes", JSON, nullable=False),
    Column("counts", JSON, nullable=False, comment="e.g. manufacturing businesses 2018"),
    Column("description_ko", Text),
    Column("description_en", Text),
    Column("geometry", Text, nullable=False),
    Column("source_id", String(40), nullable=False),
)

data_source = Table(
    "data_source",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("title", Text, nullable=False),
    Column("url", Text),
    Column("license", String(80), nullable=False),
    Column("attribution", Text, nullable=False),
    Column("notes", Text),
)

node = Table(
    "node",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("slug", String(120), nullable=False, unique=True),
    Column("name_ko", Text),
    Column("name_en", Text),
    Column("description_ko", Text),
    Column("description_en", Text),
    Column("node_type", String(24), nullable=False),
    Column("status", String(20), nullable=False),
    Column("access_type", String(32)),
    Column("batch_size", String(12)),
    Column("run_sizes", JSON, nullable=False),
    Column("opening_hours", Text),
    Column("floor_area_sqm", Float),
    Column("founded", String(10)),
    Column("operator", Text),
    Column("lat", Float),
    Column("lon", Float),
    Column("precision", String(10), nullable=False),
    Column("address_ko", Text),
    Column("address_en", Text),
    Column("gu_code", String(10)),
    Column("dong_code", String(10)),
    Column("contact", JSON, nullable=False),
    Column("links", JSON, nullable=False),
    Column("processes", JSON, nullable=False, comment="declared process ids"),
    Column("materials", JSON, nullable=False, comment="declared material ids"),
    Column("source", Text, nullable=False),
    Column("source_url", Text),
    Column("license", String(80), nullable=False),
    Column("retrieved_at", DateTime(timezone=True)),
    Column("verified_at", DateTime(timezone=True)),
    Column("verified_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column(
        "field_ranks",
        JSON,
        nullable=False,
        server_default="{}",
        comment="which kind of source set each field: person | curated | bulk (directory.precedence)",
    ),
    # Every UPDATE of the row through SQLAlchemy that does not set `version` itself adds 1 (onupdate),
    # so imports and edits alike change it; edits compare it (directory.editing), the API sends it as the ETag.
    Column(
        "version",
        Integer,
        nullable=False,
        server_default="1",
        onupdate=literal_column("version + 1"),
        comment="bumped by every write of the node: its ETag",
    ),
    # search
    Column("cell", BigInteger, comment="geo grid cell, see geo.cells"),
    Column("name_sort", Text, nullable=False),
    Column("name_text", Text, nullable=False),
    Column("tags_text", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("station_id", String(20)),
    Column("station_distance_m", Float),
    # covering for area rings: the cell range, the box and the distance are read from the index alone
    Index("ix_node_status_cell_lat_lon", "status", "cell", "lat", "lon", "pk"),
    # covering for text candidates, which arrive as pks: their place is read without the wide row
    Index("ix_node_pk_status_lat_lon", "pk", "status", "lat", "lon"),
    Index("ix_node_status_name", "status", "name_sort", "pk"),
    Index("ix_node_status_gu_type_name", "status", "gu_code", "node_type", "name_sort"),
    Index("ix_node_status_dong", "status", "dong_code"),
    # imports recognise a record without ids by its name and place (directory.writer.match_key)
    Index("ix_node_name_sort", "name_sort"),
)

area_cell = Table(
    "area_cell",
    metadata,
    Column("cell", BigInteger, primary_key=True, autoincrement=False, comment="0.04° cell (geo.cells.ground_cell)"),
    Column("nodes", Integer, nullable=False, server_default="0", comment="located nodes, any status"),
    comment="cells that hold or held a located node (never emptied): distance searches skip the rest",
)

node_external_id = Table(
    "node_external_id",
    metadata,
    Column("scheme", String(20), primary_key=True, comment="fablabs_io | okw | osm | source-defined"),
    Column("value", String(200), primary_key=True),
    Column("node_pk", Integer, ForeignKey("node.pk", ondelete="CASCADE"), nullable=False, index=True),
)

node_term = Table(
    "node_term",
    metadata,
    Column("kind", String(1), primary_key=True, comment="p = process, m = material, e = equipment type"),
    Column("term", String(40), primary_key=True),
    Column("node_pk", Integer, ForeignKey("node.pk", ondelete="CASCADE"), primary_key=True),
    Column("cell", BigInteger, comment="copy of node.cell so term + area is one index range"),
    Index("ix_node_term_kind_term_cell", "kind", "term", "cell"),
    Index("ix_node_term_node", "node_pk"),
)

node_record = Table(
    "node_record",
    metadata,
    Column("node_pk", Integer, ForeignKey("node.pk", ondelete="CASCADE"), primary_key=True),
    Column("record", Text, nullable=False, comment="the public record as JSON, rendered on write"),
    Column("summary", Text, nullable=False, comment="the map-marker subset of the record, as JSON"),
)

equipment = Table(
    "equipment",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("node_pk", Integer, ForeignKey("node.pk", ondelete="CASCADE"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("name_ko", Text),
    Column("name_en", Text),
    Column("make", Text),
    Column("model", Text),
    Column("quantity", Integer),
    Column("specs", JSON, nullable=False),
    Column("processes", JSON, nullable=False),
    Column("materials", JSON, nullable=False),
    Column("notes", Text),
    UniqueConstraint("node_pk", "position"),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

io_table = Table(
    "io_table",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("year", Integer, nullable=False),
    Column("unit", String(40), nullable=False, comment="e.g. 백만원 (million KRW)"),
    Column("sectors", JSON, nullable=False, comment="sector labels, in the order of the matrices"),
    Column("ksic", JSON, comment="KSIC sections of each sector, or null without a mapping"),
    Column("flows", JSON, nullable=False, comment="Z: intermediate transactions, row i sells to column j"),
    Column("final_demand", JSON, nullable=False),
    Column("output", JSON, nullable=False, comment="total output x"),
    Column("imports", JSON, comment="imports by sector, when the table lists them"),
    Column("source", Text, nullable=False),
    Column("license", String(120), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("title", "year"),
)

# accounts, permissions and the audit trail (fabcity.accounts, fabcity.audit)

user_account = Table(
    "user_account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True, comment="stored lower-cased"),
    Column("password_hash", Text, nullable=False, comment="argon2id"),
    Column("display_name", Text, nullable=False),
    Column("role", String(10), nullable=False, comment="member | host | curator | admin"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("consented_at", DateTime(timezone=True), comment="when the privacy notice was accepted at sign-up"),
    Column("deleted_at", DateTime(timezone=True), comment="set when the person deleted the account"),
)

web_session = Table(
    "web_session",
    metadata,
    Column("token_hash", String(64), primary_key=True, comment="sha256 of the cookie value"),
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

api_token = Table(
    "api_token",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True, comment="sha256 of the token"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

login_attempt = Table(
    "login_attempt",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False),
    Column("client", String(64), nullable=False, comment="the client's address"),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("succeeded", Integer, nullable=False),
    Index("ix_login_attempt_email_at", "email", "at"),
    Index("ix_login_attempt_client_at", "client", "at"),
)

attempt_limit = Table(
    "attempt_limit",
    metadata,
    Column("kind", String(10), primary_key=True, comment="pair | e-mail | address | sign-up (accounts.limits)"),
    Column("subject", String(320), primary_key=True, comment="the e-mail, the address, or both"),
    Column("tries", Integer, nullable=False, comment="tries counted since `since`"),
    Column("since", DateTime(timezone=True), nullable=False, comment="when this count started"),
    Column("wait_until", DateTime(timezone=True), comment="no try before this time"),
    Index("ix_attempt_limit_since", "since"),
)

node_host = Table(
    "node_host",
    metadata,
    Column("node_pk", Integer, ForeignKey("node.pk", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("granted_at", DateTime(timezone=True), nullable=False),
)

node_claim = Table(
    "node_claim",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_pk", Integer, ForeignKey("node.pk", ondelete="CASCADE"), nullable=False, index=True),
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("message", Text, nullable=False),
    Column("proof_url", Text, comment="a link that shows the claimant runs the place"),
    Column("status", String(10), nullable=False, comment="pending | approved | rejected | withdrawn"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", Integer, ForeignKey("user_account.id", ondelete="SET NULL")),
    Column("decided_at", DateTime(timezone=True)),
    # one pending claim per person and place, however many requests arrive at once
    Index(
        "uq_node_claim_pending",
        "node_pk",
        "user_id",
        unique=True,
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)

password_reset = Table(
    "password_reset",
    metadata,
    Column("token_hash", String(64), primary_key=True, comment="sha256 of the token sent by e-mail"),
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), comment="set once, when the token changed the password"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user_id", Integer, ForeignKey("user_account.id", ondelete="SET NULL"), index=True),
    Column("action", String(40), nullable=False, comment="e.g. node.update, user.role"),
    Column("entity", String(20), nullable=False, comment="node | user | claim | token"),
    Column("entity_id", String(64), nullable=False),
    Column("changes", JSON, nullable=False, comment="{field: [before, after]}"),
    Index("ix_audit_log_entity", "entity", "entity_id"),
)


# notifications (fabcity.notify)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient", String(254), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, comment="delivery tries so far"),
    Column("last_error", Text, comment="why the last try failed"),
    Column("message_id", String(200), nullable=False, comment="the e-mail's Message-ID, the same on every try"),
    Column("dedupe_key", String(120), unique=True, comment="e.g. booking:12:reminder:member; queued at most once"),
    Column("claimed_by", String(120), comment="the delivering worker that took it last"),
    Column("claimed_until", DateTime(timezone=True), comment="no other worker takes it before (the lease)"),
    Index("ix_outbox_sent_at", "sent_at"),
    Index("ix_outbox_recipient", "recipient", "id"),
)

# booking: bookable resources of nodes, their units, availability and bookings (fabcity.booking)
# On PostgreSQL migration 0012 adds an exclusion constraint on `booking` (no two blocking bookings of
# one unit overlap); it is not declared here because SQLite has no such constraint (booking.store).

booking_resource = Table(
    "booking_resource",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_pk", Integer, ForeignKey("node.pk", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(20), nullable=False, comment="machine | room | desk | focus_booth | production_line"),
    Column("name_ko", Text, nullable=False),
    Column("name_en", Text),
    Column("granularity_min", Integer, nullable=False, comment="slot length: 15, 30 or 60 minutes"),
    Column("min_duration_min", Integer, nullable=False),
    Column("max_duration_min", Integer, nullable=False),
    Column("lead_time_min", Integer, nullable=False, comment="a booking starts at least this long after it is made"),
    Column("horizon_days", Integer, nullable=False, comment="a booking starts at most this many days ahead"),
    Column("buffer_before_min", Integer, nullable=False),
    Column("buffer_after_min", Integer, nullable=False),
    Column("mode", String(10), nullable=False, comment="instant | approval"),
    Column("hold_hours", Integer, nullable=False, comment="how long a request or an unpaid booking holds its slot"),
    Column("price_per_slot_krw", Integer, nullable=False, comment="0: free"),
    Column("cancellation_policy", JSON, nullable=False, comment="[[days_before, refund_percent], …]"),
    Column(
        "parent_id", Integer, ForeignKey("booking_resource.id"), index=True, comment="e.g. the room a machine is in"
    ),
    Column("time_zone", String(64), nullable=False, comment="IANA zone its rules are written in"),
    Column("import_url", Text, comment="the external calendar its blocks are fetched from"),
    Column("retired_at", DateTime(timezone=True), comment="no new bookings after; never deleted once booked"),
    # migration 0016: the listed machine a machine resource was made from (once per machine), and its type
    # (no foreign key: the directory rewrites a node's equipment rows on every write of the node)
    Column("equipment_pk", Integer, unique=True, index=True, comment="the listed machine it was made from"),
    Column("equipment_type", String(40), comment="taxonomy id, e.g. laser_cutter"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column(
        "version",
        Integer,
        nullable=False,
        server_default="1",
        onupdate=literal_column("version + 1"),
        comment="bumped by every write of the resource: its ETag",
    ),
    Index("ix_booking_resource_equipment_type", "equipment_type", "node_pk"),
)

booking_unit = Table(
    "booking_unit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", Integer, ForeignKey("booking_resource.id"), nullable=False, index=True),
    Column("label", String(40), nullable=False, comment="e.g. desk 3; one booking takes one unit"),
    UniqueConstraint("resource_id", "label"),
)

availability_rule = Table(
    "availability_rule",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", Integer, ForeignKey("booking_resource.id"), nullable=False, index=True),
    Column("weekday", Integer, nullable=False, comment="0 = Monday … 6 = Sunday"),
    Column("start_minute", Integer, nullable=False, comment="local wall-clock minutes after midnight"),
    Column("end_minute", Integer, nullable=False, comment="local, exclusive; 1440 = midnight"),
    Column("valid_from", Date, comment="first local date it applies, inclusive"),
    Column("valid_until", Date, comment="last local date it applies, inclusive"),
)

availability_exception = Table(
    "availability_exception",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", Integer, ForeignKey("booking_resource.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False, comment="closure | maintenance | extra_opening | external_block"),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False, comment="exclusive"),
    Column("note", Text, nullable=False, server_default=""),
    Column(
        "source",
        String(10),
        nullable=False,
        server_default="host",
        comment="host | upload | url: an import replaces the blocks of its own source only",
    ),
    Column("uid", Text, comment="an imported block's event UID and occurrence start"),
    Index("ix_availability_exception_resource_source", "resource_id", "source"),
)

booking = Table(
    "booking",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", Integer, ForeignKey("booking_resource.id"), nullable=False),
    Column("unit_id", Integer, ForeignKey("booking_unit.id"), nullable=False),
    Column("member_id", Integer, ForeignKey("user_account.id"), nullable=False, index=True),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False, comment="exclusive"),
    Column("blocked_start", DateTime(timezone=True), nullable=False, comment="starts_at less the buffer before"),
    Column("blocked_end", DateTime(timezone=True), nullable=False, comment="ends_at plus the buffer after"),
    Column("state", String(20), nullable=False, comment="booking.vocabulary.STATES"),
    Column("hold_expires_at", DateTime(timezone=True), comment="a request or unpaid booking is expired from then"),
    Column("idempotency_key", String(100), nullable=False, comment="the client's; one booking per member and key"),
    Column("price_krw", Integer, nullable=False, comment="the price when booked: slots × the price per slot"),
    Column("policy", JSON, comment="the cancellation policy copied at confirmation"),
    Column("refund_krw", Integer, comment="what a cancellation pays back"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, server_default="1", comment="bumped by every transition"),
    UniqueConstraint("member_id", "idempotency_key"),
    Index("ix_booking_unit_blocked", "unit_id", "blocked_start", "blocked_end"),
    Index("ix_booking_resource_starts", "resource_id", "starts_at"),
    Index("ix_booking_starts_at", "starts_at"),  # activation: one month of bookings across resources
)

# calendars (fabcity.booking.calendars)

calendar_feed = Table(
    "calendar_feed",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "user_id",
        Integer,
        ForeignKey("user_account.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
        comment="whose feed: they read it, they revoke it",
    ),
    Column(
        "resource_id", Integer, ForeignKey("booking_resource.id"), comment="a resource's bookings; none: the user's own"
    ),
    Column("token_hash", String(64), nullable=False, unique=True, comment="sha256 of the secret in its address"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

# qualifications: a node's trainings, who passed them, and the trainings a resource requires (booking.qualifications)
# A record of a pass is never deleted: an expired, lapsed or revoked one stays in the history.

booking_training = Table(
    "booking_training",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_pk", Integer, ForeignKey("node.pk", ondelete="CASCADE"), nullable=False, index=True),
    Column("name_ko", Text, nullable=False, comment="e.g. 레이저 커터 안전교육"),
    Column("name_en", Text),
    Column("valid_months", Integer, comment="a pass expires this many months after it was passed; null: never"),
    Column("lapse_months", Integer, comment="a pass lapses after this many months without a booking that used it"),
    Column("retired_at", DateTime(timezone=True), comment="no longer required nor recorded; its passes stay"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, server_default="1", comment="bumped by every write of the training"),
)

booking_qualification = Table(
    "booking_qualification",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("training_id", Integer, ForeignKey("booking_training.id"), nullable=False),
    Column("member_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("passed_on", Date, nullable=False, comment="the day (KST) the member passed the training"),
    Column("note", Text, nullable=False, server_default=""),
    Column("recorded_by", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), comment="set once, by a compare-and-swap; the record stays"),
    Column("revoked_by", Integer, ForeignKey("user_account.id")),
    Column("revoke_reason", Text),
    Index("ix_booking_qualification_member_training", "member_id", "training_id"),
    Index("ix_booking_qualification_training_id", "training_id"),
)

booking_resource_training = Table(
    "booking_resource_training",
    metadata,
    Column("resource_id", Integer, ForeignKey("booking_resource.id"), primary_key=True),
    Column("training_id", Integer, ForeignKey("booking_training.id"), primary_key=True, index=True),
)

"""The machine API's request and response bodies as pydantic v2 models: requests are
validated through them, responses are built from them, and the OpenAPI document
(``tenants.api.openapi``) is assembled from their JSON Schemas (2020-12, OpenAPI 3.1's
dialect)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tenants.calls.ingest import MAX_BATCH

Text = Annotated[str | None, Field(max_length=200)]


class ErrorOut(BaseModel):
    """Every error of the API (RFC 6750 ones carry ``WWW-Authenticate`` too)."""

    error: str = Field(description="A machine-readable code, e.g. invalid_token.")
    message: str = Field(description="What went wrong, in the Accept-Language (default English).")


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str


class TokenErrorOut(BaseModel):
    """RFC 6749 §5.2."""

    error: str
    error_description: str | None = None


class CallIn(BaseModel):
    """One call as the PBX reports it. Times are ISO 8601 with their offset."""

    model_config = ConfigDict(extra="ignore")

    call_id: Annotated[str, Field(max_length=200, examples=["node1-20261130-0001"])]
    circle: Annotated[int, Field(ge=1, le=2**31 - 1, description="The circle's id.")]
    extension: Text = Field(default=None, description="The unique's extension, or null.")
    direction: Annotated[str, Field(max_length=20, examples=["in", "out", "internal"])]
    caller: Text = None
    called: Text = None
    started_at: Annotated[str, Field(max_length=60, examples=["2026-11-30T14:30:05+09:00"])]
    answered_at: Text = None
    ended_at: Annotated[str, Field(max_length=60, examples=["2026-11-30T14:35:10+09:00"])]
    disposition: Annotated[
        str, Field(max_length=20, examples=["answered", "no_answer", "busy", "failed"])
    ]


class CallBatchIn(BaseModel):
    calls: Annotated[list[CallIn], Field(max_length=MAX_BATCH)]


class CallBatchShape(BaseModel):
    """The envelope alone: each record is checked on its own (a bad one is rejected,
    the others kept)."""

    calls: list[Any]


class RejectedOut(BaseModel):
    index: int = Field(description="The record's position in ``calls`` (from 0).")
    reason: Literal["invalid", "unknown_circle", "call_id_taken"]
    fields: dict[str, str] = Field(description="Field name → what is wrong with it.")


class CallBatchOut(BaseModel):
    new: int
    known: int
    rejected: list[RejectedOut]


class RecordingOut(BaseModel):
    call_id: str
    sha256: str
    size_bytes: int
    duration_seconds: int


class SipOut(BaseModel):
    user: str
    realm: str
    ha1: str = Field(description="MD5(user:realm:secret), RFC 2617.")
    ha1_sha256: str = Field(description="SHA-256(user:realm:secret), RFC 8760.")


class UniqueOut(BaseModel):
    id: int
    extension: str | None
    display_name: str
    kind: Literal["phone", "conference_room", "ivr", "outbound_selector"]
    terminal_type: str | None
    carrier: str | None
    pickup_group_id: int
    recording_refused: bool
    monitoring: bool
    whispering: bool
    sip: SipOut | None


class CircleOut(BaseModel):
    id: int
    name: str
    extension_length: int


class RingGroupOut(BaseModel):
    id: int
    name: str
    extension: str | None
    ring_time_seconds: int
    members: list[int] = Field(description="Unique ids in ring order.")


class PickupGroupOut(BaseModel):
    id: int
    name: str
    members: list[int]


class ConferenceRoomOut(BaseModel):
    unique_id: int
    extension: str | None
    name: str
    phone_number: str | None
    pin: str | None
    broadcast: bool
    members: list[int]


class PromptOut(BaseModel):
    url: str
    sha256: str | None
    bytes: int | None


class IvrOut(BaseModel):
    id: int
    unique_id: int
    extension: str | None
    name: str
    answer_after_seconds: int
    channels: int
    business_hours: dict[str, Any]
    closed_on_holidays: bool
    after_hours: dict[str, Any]
    digit_map: dict[str, Any]
    timeout_destination: dict[str, Any]
    prompt: PromptOut | None


class NumberOut(BaseModel):
    e164: str
    label: str


class SelectorOut(BaseModel):
    unique_id: int
    extension: str | None
    name: str
    number: str | None


class OutboundOut(BaseModel):
    numbers: list[NumberOut]
    selectors: list[SelectorOut]


class RecordingTicksOut(BaseModel):
    contracted: bool = Field(description="Whether full call recording is contracted today.")
    refused_unique_ids: list[int]


class TicksOut(BaseModel):
    contracted: bool
    unique_ids: list[int]


class CircleConfigOut(BaseModel):
    circle: CircleOut
    uniques: list[UniqueOut]
    ring_groups: list[RingGroupOut]
    pickup_groups: list[PickupGroupOut]
    conference_rooms: list[ConferenceRoomOut]
    ivrs: list[IvrOut]
    outbound: OutboundOut
    recording: RecordingTicksOut
    monitoring: TicksOut
    whispering: TicksOut

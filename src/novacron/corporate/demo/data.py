"""The sample portfolio ``novacron corporate demo`` loads: plain data, dates as day
offsets from today so the demo always looks current (``demo.py`` loads it through the
services).

The story: two closed acquisitions (Helios Storage, integrating for 15 months and
under-delivering on cost synergies; Meshwave Networks, closed last half-year and on
plan), a security deal in negotiation, an AI lab stuck in due diligence, a EUR quantum
start-up in preliminary talks, two screening prospects and a backup vendor dropped over
a deal-breaker; ten partners from bronze to gold with a conflict and registrations about
to expire; and an ecosystem whose FedRAMP authorisation lapses in 40 days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# -- M&A ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Synergy:
    category: str
    name: str
    run_rate: int
    phase_in: tuple[float, ...]
    one_off_cost: int = 0
    realised: float = 1.0
    """Share of plan the demo records as actual for every elapsed quarter."""


@dataclass(frozen=True)
class TargetSpec:
    name: str
    category: str
    description: str
    headquarters: str
    country: str
    revenue: int
    ebitda: int
    employees: int
    asking_value: int
    owner: str
    created: int
    """Day offset (negative: in the past) of the target's creation."""
    moves: tuple[tuple[str, int], ...] = ()
    """(stage entered, day offset), in order."""
    score: float = 7.5
    """Average screening score (0-10)."""
    currency: str = "USD"
    custom_category: str | None = None
    signed: int | None = None
    closed: int | None = None
    expected_close: int | None = None
    synergies: tuple[Synergy, ...] = ()
    drop: tuple[int, str] | None = None
    """(day offset, reason) of a drop from the last stage entered."""
    stuck_diligence: bool = False
    """Leave the diligence request list half done with overdue requests."""
    deal_breaker: str | None = None
    approve_valuation: bool = False
    people: tuple[tuple[str, str, str, str, int], ...] = ()
    """Key employees: (name, role, flight risk, status, retention bonus)."""
    customers: tuple[tuple[str, int, str], ...] = ()
    """Key customers: (name, ARR, status)."""


HELIOS_PEOPLE = (
    ("Dana Whitfield", "CTO", "medium", "retained", 450_000),
    ("Raj Patel", "VP Engineering", "high", "retained", 300_000),
    ("Lena Novak", "Head of Storage R&D", "low", "retained", 250_000),
    ("Tom Okafor", "Chief Architect", "medium", "retained", 250_000),
    ("Ines Duarte", "VP Sales", "high", "left", 200_000),
    ("Sam Lee", "Principal Engineer", "low", "retained", 120_000),
)
HELIOS_CUSTOMERS = (
    ("Acme Manufacturing", 2_400_000, "retained"),
    ("Initech Financial", 1_800_000, "retained"),
    ("Umbrella Health", 1_200_000, "at_risk"),
    ("Soylent Foods", 650_000, "churned"),
    ("Wayne Logistics", 900_000, "retained"),
)

TARGETS: tuple[TargetSpec, ...] = (
    TargetSpec(
        name="Helios Storage",
        category="storage",
        description="Software-defined block and object storage for private clouds.",
        headquarters="Austin, TX",
        country="US",
        revenue=42_000_000,
        ebitda=9_500_000,
        employees=210,
        asking_value=180_000_000,
        owner="maria.chen",
        created=-700,
        moves=(
            ("preliminary", -660),
            ("due_diligence", -610),
            ("negotiation", -520),
            ("closed", -470),
            ("integration", -465),
        ),
        score=8.2,
        signed=-490,
        closed=-470,
        approve_valuation=True,
        synergies=(
            Synergy("cost", "Procurement consolidation", 3_500_000, (0.5, 1.0), 400_000, 0.62),
            Synergy("cost", "Data-centre footprint", 2_500_000, (0.5, 1.0), 900_000, 0.62),
            Synergy(
                "revenue", "Cross-sell into NovaCron base", 8_000_000, (0.25, 0.75, 1.0), 0, 0.9
            ),
        ),
        people=HELIOS_PEOPLE,
        customers=HELIOS_CUSTOMERS,
    ),
    TargetSpec(
        name="Meshwave Networks",
        category="networking",
        description="Overlay networking and micro-segmentation for VM fleets.",
        headquarters="Toronto",
        country="CA",
        revenue=18_000_000,
        ebitda=3_200_000,
        employees=95,
        asking_value=75_000_000,
        owner="omar.haddad",
        created=-480,
        moves=(
            ("preliminary", -440),
            ("due_diligence", -400),
            ("negotiation", -300),
            ("closed", -200),
        ),
        score=7.6,
        signed=-230,
        closed=-200,
        approve_valuation=True,
        synergies=(
            Synergy("cost", "Shared support organisation", 3_000_000, (0.6, 1.0), 250_000, 1.05),
            Synergy("revenue", "Bundled network policy", 2_000_000, (0.3, 0.8, 1.0), 0, 1.02),
        ),
        people=(
            ("Priya Raman", "CEO", "medium", "retained", 350_000),
            ("Jonas Berg", "Head of Product", "low", "retained", 150_000),
            ("Ana Souza", "Lead SRE", "low", "retained", 90_000),
            ("Kofi Mensah", "Principal Engineer", "medium", "retained", 90_000),
        ),
        customers=(
            ("Hooli", 1_100_000, "retained"),
            ("Vandelay Industries", 700_000, "retained"),
        ),
    ),
    TargetSpec(
        name="Sentinel Cyber",
        category="security",
        description="Runtime threat detection for hypervisors and guest kernels.",
        headquarters="Tel Aviv",
        country="IL",
        revenue=26_000_000,
        ebitda=4_100_000,
        employees=140,
        asking_value=140_000_000,
        owner="maria.chen",
        created=-260,
        moves=(("preliminary", -220), ("due_diligence", -170), ("negotiation", -30)),
        score=8.0,
        expected_close=45,
        approve_valuation=True,
        synergies=(
            Synergy("revenue", "Security add-on attach", 6_000_000, (0.3, 0.7, 1.0)),
            Synergy("cost", "Threat-research consolidation", 1_500_000, (0.5, 1.0), 300_000),
        ),
    ),
    TargetSpec(
        name="Cortex AI Labs",
        category="ai_ml",
        description="Workload forecasting and placement models trained on fleet telemetry.",
        headquarters="London",
        country="GB",
        revenue=9_000_000,
        ebitda=-1_200_000,
        employees=60,
        asking_value=90_000_000,
        owner="omar.haddad",
        created=-180,
        moves=(("preliminary", -140), ("due_diligence", -95)),
        score=7.9,
        stuck_diligence=True,
        expected_close=120,
        synergies=(Synergy("revenue", "Intelligence tier upsell", 4_000_000, (0.2, 0.6, 1.0)),),
    ),
    TargetSpec(
        name="Qubit Dynamics",
        category="quantum",
        currency="EUR",
        description="Quantum-safe key exchange for cluster interconnects.",
        headquarters="Munich",
        country="DE",
        revenue=4_500_000,
        ebitda=-800_000,
        employees=35,
        asking_value=38_000_000,
        owner="lea.schmidt",
        created=-75,
        moves=(("preliminary", -40),),
        score=7.1,
        expected_close=240,
    ),
    TargetSpec(
        name="Edgeflow Analytics",
        category="custom",
        custom_category="edge analytics",
        description="Stream analytics at telco edge sites.",
        headquarters="Stockholm",
        country="SE",
        revenue=6_000_000,
        ebitda=500_000,
        employees=40,
        asking_value=30_000_000,
        owner="lea.schmidt",
        created=-20,
        score=6.4,
    ),
    TargetSpec(
        name="Photon Interconnect",
        category="networking",
        description="Silicon-photonics switching for rack-scale fabrics.",
        headquarters="San Jose, CA",
        country="US",
        revenue=12_000_000,
        ebitda=1_000_000,
        employees=70,
        asking_value=65_000_000,
        owner="omar.haddad",
        created=-12,
        score=5.2,
    ),
    TargetSpec(
        name="Nimbus Backup",
        category="storage",
        description="Backup-as-a-service for VM snapshots.",
        headquarters="Denver, CO",
        country="US",
        revenue=15_000_000,
        ebitda=2_000_000,
        employees=80,
        asking_value=55_000_000,
        owner="maria.chen",
        created=-320,
        moves=(("preliminary", -280), ("due_diligence", -230)),
        score=7.0,
        deal_breaker="Undisclosed patent litigation over snapshot deduplication",
        drop=(-150, "deal-breaker: undisclosed patent litigation (legal diligence)"),
    ),
)

DILIGENCE_REQUESTS: tuple[tuple[str, str], ...] = (
    ("financial", "Audited accounts, last three years"),
    ("financial", "Revenue by customer and contract"),
    ("legal", "Material contracts and change-of-control clauses"),
    ("legal", "IP assignment agreements"),
    ("technology", "Architecture review and code escrow"),
    ("technology", "Open-source licence scan"),
    ("commercial", "Top-20 customer references"),
    ("operational", "Support SLAs and incident history"),
    ("environmental", "Data-centre energy and ESG disclosures"),
)

# -- partners -------------------------------------------------------------------------------

CUSTOMERS: tuple[str, ...] = (
    "Acme Manufacturing", "Globex Retail", "Initech Financial", "Umbrella Health",
    "Soylent Foods", "Hooli", "Vandelay Industries", "Wayne Logistics", "Stark Energy",
    "Tyrell Biotech", "Cyberdyne Robotics", "Oscorp Labs", "Wonka Confectionery",
    "Duff Beverages", "Gringotts Bank", "Monarch Airlines", "Pied Piper", "Massive Dynamic",
    "Aperture Science", "Black Mesa", "Nakatomi Trading", "Sirius Cybernetics",
)  # fmt: skip
PRODUCTS: tuple[str, ...] = ("NovaCron Platform", "NovaCron Migration", "NovaCron Intelligence")


@dataclass(frozen=True)
class Deal:
    amount: int
    registered: int
    """Day offset of the registration."""
    outcome: str
    """won, lost, approved (open) or pending (open)."""
    closed: int | None = None
    motion: str = "sourced"
    customer: str | None = None
    product: str | None = None
    valid_days: int = 120


@dataclass(frozen=True)
class PartnerSpec:
    name: str
    type: str
    region: str
    engineers: int
    csat: float | None
    currency: str = "USD"
    status: str = "active"
    deals: tuple[Deal, ...] = ()
    reverse_close: bool = False
    """Record the won deals newest first (as if reported late): the tier evaluated at the
    last recorded close lags what the partner qualifies for today."""
    contacts: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def _won(n: int, amount: int, first: int, step: int, motion: str = "sourced") -> tuple[Deal, ...]:
    """``n`` won deals of ``amount``, registered 45 days before their close; the first
    closes at ``first`` and each next one ``step`` days later."""
    return tuple(
        Deal(amount, first + i * step - 45, "won", first + i * step, motion) for i in range(n)
    )


PARTNERS: tuple[PartnerSpec, ...] = (
    PartnerSpec(
        "Stratus Cloud", "cloud", "North America", 6, 4.5,
        deals=(
            *_won(11, 220_000, -300, 25),
            Deal(150_000, -200, "lost", -150),
            *_won(2, 90_000, -120, 30, "influenced"),
            Deal(400_000, -30, "approved"),
        ),
        contacts=({"name": "Alex Rivera", "email": "alex@stratus.example", "role": "Alliances"},),
    ),
    PartnerSpec(
        "Ironbridge Systems", "system_integrator", "EMEA", 3, 4.2,
        deals=(
            *_won(10, 135_000, -280, 25),
            Deal(80_000, -160, "lost", -100),
            Deal(260_000, -10, "pending", customer="Globex Retail", product="NovaCron Platform"),
        ),
    ),
    PartnerSpec(
        "Northwind Telco", "telco", "North America", 3, 4.0,
        deals=_won(4, 100_000, -200, 40),
        reverse_close=True,
    ),
    PartnerSpec(
        "Pinnacle Resellers", "reseller", "North America", 1, 3.8,
        deals=(
            *_won(2, 45_000, -150, 30),
            Deal(60_000, -90, "lost", -40),
            Deal(180_000, -20, "pending", customer="Globex Retail", product="NovaCron Platform"),
            Deal(75_000, -85, "pending", valid_days=90),
        ),
    ),
    PartnerSpec(
        "Rheinland Systemhaus", "reseller", "DACH", 2, 3.9, currency="EUR",
        deals=(*_won(1, 120_000, -90, 0), Deal(95_000, -40, "approved")),
    ),
    PartnerSpec(
        "Vertex Hardware", "hardware", "Global", 4, 4.1,
        deals=(*_won(3, 110_000, -220, 50), Deal(140_000, -80, "approved", valid_days=90)),
    ),
    PartnerSpec(
        "Cobalt Networks", "hardware", "APAC", 2, 3.6,
        deals=(Deal(70_000, -130, "lost", -60), Deal(55_000, -25, "pending")),
    ),
    PartnerSpec(
        "Lumen Software", "technology", "Global", 2, 4.3,
        deals=(
            *_won(2, 60_000, -100, 35, "influenced"),
            Deal(90_000, -15, "pending", motion="influenced"),
        ),
    ),
    PartnerSpec("Apex Integrators", "system_integrator", "LATAM", 0, None, status="prospect"),
    PartnerSpec(
        "Skyline Telecom", "telco", "EMEA", 1, 3.1,
        deals=(Deal(50_000, -240, "lost", -180),),
    ),
)  # fmt: skip

PARTNER_PROGRAMMES: tuple[dict[str, Any], ...] = (
    {
        "name": "Co-Marketing Fund",
        "kind": "marketing",
        "description": "Market development funds for joint campaigns and events.",
        "benefits": ["MDF up to 5% of sourced revenue", "Joint press releases"],
        "start_offset": -365,
        "mdf_budget": 500_000,
        "budget_currency": "USD",
    },
    {
        "name": "Cloud Co-Sell",
        "kind": "co_sell",
        "description": "Joint account planning and co-selling with cloud partners.",
        "min_tier": "silver",
        "partner_types": ["cloud", "system_integrator"],
        "benefits": ["Shared account plans", "Deal desk support"],
        "start_offset": -300,
    },
    {
        "name": "Growth Incentive",
        "kind": "incentive",
        "description": "Volume rebates for partners growing sourced revenue.",
        "benefits": ["Tiered volume rebates"],
        "start_offset": -365,
    },
)

MDF_REQUESTS: tuple[dict[str, Any], ...] = (
    # partner, activity, amount, start offset, end offset, approved?, claimed, paid offset
    {"partner": "Stratus Cloud", "activity": "re:Invent booth", "amount": 60_000,
     "start": -200, "end": -190, "claim": 55_000, "paid": -150},
    {"partner": "Ironbridge Systems", "activity": "EMEA migration roadshow", "amount": 40_000,
     "start": -60, "end": 20, "claim": None},
    {"partner": "Vertex Hardware", "activity": "Joint reference architecture", "amount": 25_000,
     "start": -120, "end": -90, "claim": 25_000, "paid": None},
    {"partner": "Pinnacle Resellers", "activity": "Webinar series", "amount": 12_000,
     "start": 10, "end": 40, "claim": None, "approve": False},
)  # fmt: skip

GOLD_REBATES: dict[str, Any] = {
    "method": "marginal",
    "bands": [{"up_to": "1000000", "rate": "0.02"}, {"up_to": None, "rate": "0.03"}],
}

# -- ecosystem -------------------------------------------------------------------------------

JOINT_VENTURE: dict[str, Any] = {
    "name": "NovaCron Edge JV",
    "purpose": "Edge-cloud platform for telco sites, sold by Northwind Telco.",
    "currency": "USD",
    "parties": [
        {"name": "NovaCron", "equity_pct": "60", "is_us": True},
        {"name": "Northwind Telco", "equity_pct": "40"},
    ],
    "formed": -400,
    "investments": [("NovaCron", 3_000_000, -400), ("Northwind Telco", 2_000_000, -400)],
    "quarters": [(1_200_000, -150_000), (1_900_000, 120_000), (2_600_000, 380_000)],
}
LICENSES: tuple[dict[str, Any], ...] = (
    {
        "name": "Live-migration patent licence",
        "direction": "out",
        "licensor": "NovaCron",
        "licensee": "Kappa Semiconductor",
        "licensed_ip": "US patents on post-copy live migration",
        "currency": "USD",
        "start": -420,
        "royalty_tiers": [
            {"from_sales": "0", "rate_pct": "4"},
            {"from_sales": "5000000", "rate_pct": "3"},
        ],
        "minimum_annual_guarantee": "150000",
        "upfront_fee": "250000",
        "sales": [900_000, 1_300_000, 1_600_000, 1_750_000],
    },
    {
        "name": "Codec SDK licence",
        "direction": "in",
        "licensor": "Fraunhofer Media",
        "licensee": "NovaCron",
        "licensed_ip": "Video codec SDK for the remote console",
        "currency": "EUR",
        "start": -250,
        "royalty_tiers": [{"from_sales": "0", "rate_pct": "1.5"}],
        "minimum_annual_guarantee": "0",
        "upfront_fee": "20000",
        "sales": [300_000, 340_000],
    },
)  # fmt: skip
LAB: dict[str, Any] = {
    "name": "Quantum-safe Networking Lab",
    "partners": ["Qubit Dynamics", "ETH Zurich"],
    "focus_area": "Post-quantum key exchange for cluster interconnects",
    "budget": 1_200_000,
    "currency": "USD",
    "projects": [
        ("PQC handshake prototype", "completed", "prototype"),
        ("Hybrid key exchange in the migration channel", "active", "none"),
    ],
    "spend": [(220_000, -200), (180_000, -110), (140_000, -30)],
}
ACADEMIC: dict[str, Any] = {
    "institution": "ETH Zurich",
    "programme_type": "research_grant",
    "title": "Scheduling under uncertainty for VM fleets",
    "start": -300,
    "end": 430,
    "funding": 450_000,
    "currency": "CHF",
    "outputs": [
        ("publication", "Risk-aware VM placement (EuroSys)", -60),
        ("hire", "PhD intern", -20),
    ],
}  # fmt: skip
GOVERNMENT: tuple[dict[str, Any], ...] = (
    {
        "agency": "US General Services Administration",
        "programme": "FedRAMP Marketplace",
        "jurisdiction": "US federal",
        "contract_vehicle": "GSA MAS",
        "value": 4_000_000,
        "currency": "USD",
        "certifications": [
            {"name": "FedRAMP Moderate", "status": "authorized", "started_on": -1500,
             "authorized_on": -1055, "expires_on": 40},
        ],
    },
    {
        "agency": "German Federal Office for Information Security",
        "programme": "Cloud provider attestation",
        "jurisdiction": "DE",
        "contract_vehicle": "",
        "value": None,
        "currency": "EUR",
        "certifications": [
            {"name": "C5", "status": "authorized", "started_on": -500, "authorized_on": -330,
             "expires_on": 400},
        ],
    },
)  # fmt: skip

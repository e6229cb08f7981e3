"""The SmartCityTech partnership's demo data: `flask --app wsgi demo`.

The story is the partnership's ESCT Go Global report (2018-2019): ten member clusters in
ten European regions, beachheads in Singapore, Boston and New York, the fellow partnership
EC2I and its clusters (18 regional clusters involved), fact-finding and outbound missions,
inbound missions at the Smart City Expo World Congress in Barcelona, a webinar before each
mission, and the 109 SMEs that joined a delegation. The beachheads and EC2I are the
report's own; every cluster, company and person here is invented. The webinars meet in
demo rooms (meet.demo.smartcitytech.eu); the upcoming ones are open to anyone, for quick
registration too, and the last USA mission's webinar has its recording online and the
attendance of the join links its registrants opened. The Barcelona inbound missions carry
B2B matchmaking: marketplaces of delegates and the target regions' stakeholders, with
their opportunities, and meeting requests in every state.

`load()` is idempotent: it looks every object up by its natural key (partner slug,
organization name, user email, event slug, registration event and user) and creates only
what is missing; it never changes an existing row. The content is deterministic: a fixed
random seed, fixed instants for the past, and upcoming events placed on whole days of
their own zone relative to `now`, so two runs on the same day build identical rows.

Everything is created through the services, from the input models the pages and the API
validate, so the demo obeys the rules any other data obeys; only the instants are the
story's (`_as_of` dates the services' audit entries when each thing happened).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from . import languages
from .extensions import db
from .inputs.agreements import AgreementIn
from .inputs.events import EventIn, SessionIn
from .inputs.matchmaking import (
    JoinIn,
    MatchmakingIn,
    MeetingBlockIn,
    MeetingPointIn,
    MeetingRequestIn,
    OpportunityIn,
    ProfileIn,
    UnavailableSlotsIn,
)
from .inputs.meeting_outcomes import FollowUpIn, MeetingRatingIn
from .inputs.organizations import OrganizationIn
from .inputs.partners import PartnerIn
from .inputs.stakeholders import StakeholderInvitationIn
from .inputs.surveys import SurveyAnswerIn
from .models import (
    MISSION_KINDS,
    Agreement,
    AgreementKind,
    AgreementStatus,
    AgreementType,
    Attendance,
    AttendanceSource,
    AuditEntry,
    Event,
    EventKind,
    EventRole,
    EventStatus,
    FollowUpAnswer,
    Helix,
    Matchmaking,
    Meeting,
    MeetingFollowUp,
    MeetingPointKind,
    MeetingRatingAnswer,
    MeetingRequest,
    Organization,
    OrganizationSize,
    OutboxMessage,
    Participant,
    Partner,
    PartnerKind,
    Registration,
    Role,
    ScheduleRun,
    ScheduleState,
    SessionKind,
    StakeholderInvitation,
    SurveyInvitation,
    SurveyRound,
    User,
    utcnow,
)
from .models import MeetingRequestStatus as M
from .models import RegistrationStatus as S
from .services import (
    accounts,
    agreements,
    attendance,
    audit,
    events,
    matchmaking,
    matchmaking_settings,
    meeting_outcomes,
    meeting_requests,
    meeting_schedule,
    registrations,
    stakeholder_invitations,
    surveys,
)
from .services import organizations as organization_records
from .services import partners as partner_records
from .unit import write_step

DEMO_DOMAIN = "demo.smartcitytech.eu"
# Published on purpose: the demo is refused with the production config.
DEMO_PASSWORD = "beachhead-demo"  # noqa: S105

# Every account and organization exists since the project started; only their
# registrations and the events carry later instants.
LAUNCHED_AT = datetime(2017, 12, 4, 9, 0, tzinfo=UTC)
SEED = 2018


# --------------------------------------------------------------------------- member clusters


@dataclass(frozen=True)
class ClusterRegion:
    """A member cluster, and the local flavour of its companies and people."""

    key: str  # names its manager's account: manager.<key>@demo.smartcitytech.eu
    slug: str
    name: str
    short_name: str
    country: str
    region: str
    city: str
    towns: tuple[str, ...]  # where its companies are, the cluster's own city first
    legal_form: str
    company_stems: tuple[str, ...]  # one per company
    people: tuple[str, ...]  # one contact per company, then the cluster's manager

    @property
    def manager_email(self) -> str:
        return f"manager.{self.key}@{DEMO_DOMAIN}"

    @property
    def manager_name(self) -> str:
        return self.people[-1]


MEMBER_CLUSTERS = (
    ClusterRegion(
        "aalborg", "smart-city-nord", "Smart City Nord – North Denmark Cluster",
        "Smart City Nord", "DK", "North Denmark Region", "Aalborg",
        ("Aalborg", "Nørresundby", "Hjørring", "Frederikshavn", "Brønderslev"), "ApS",
        ("Fjordlys", "Nordkyst", "Østerå", "Hvidsten", "Skagerrak", "Lindholm", "Rørdal",
         "Vesterå", "Mølleå", "Sæby", "Gammeltorv"),
        ("Søren Østergaard", "Line Højgaard", "Anders Mølgaard", "Camilla Brøndum",
         "Jens Vestergaard", "Signe Nørgaard", "Rasmus Jørgensen", "Ida Skårup",
         "Mads Lykkegård", "Birgitte Dahl", "Kasper Søndergaard", "Mette Kjærgaard"),
    ),
    ClusterRegion(
        "gent", "smart-urbanism-flanders", "Smart Urbanism Flanders", "SU Flanders", "BE",
        "Flanders", "Gent", ("Gent", "Kortrijk", "Brugge", "Aalst", "Sint-Niklaas"), "BV",
        ("Leiedal", "Korenmarkt", "Belfort", "Groenrijk", "Waasland", "Zuidpoort",
         "Meetjesland", "Ganzendries", "Scheldeoever", "Patershol", "Citadel"),
        ("Lotte De Smet", "Pieter Vermeulen", "Elien Claeys", "Joris Van Damme", "Anke Peeters",
         "Wouter Goossens", "Fien Maes", "Thijs Verhaeghe", "Lien Van de Velde", "Bram Wauters",
         "Zoë Dhondt", "Griet Mertens"),
    ),
    ClusterRegion(
        "eindhoven", "urban-living-brabant", "Urban Living Brabant Cluster",
        "Urban Living Brabant", "NL", "North Brabant", "Eindhoven",
        ("Eindhoven", "Tilburg", "'s-Hertogenbosch", "Helmond", "Breda"), "B.V.",
        ("Dommelstroom", "Strijp", "Kempenlicht", "Peelland", "Dijkzicht", "Genneper",
         "Woensel", "Lichtstad", "Beekdal", "Vonderweg", "Markiezaat"),
        ("Sanne van der Linden", "Joost Bakker", "Femke de Vries", "Daan Jansen", "Iris van Dijk",
         "Sjoerd Smits", "Maartje Verhoeven", "Ruben Kuijpers", "Noëlle Mulder", "Bart de Groot",
         "Roos van Beek", "Hendrik Hermans"),
    ),
    ClusterRegion(
        "barcelona", "ciutat-digital-catalunya", "Clúster Ciutat Digital de Catalunya",
        "Ciutat Digital", "ES", "Catalonia", "Barcelona",
        ("Barcelona", "Sant Cugat del Vallès", "Terrassa", "Girona", "Lleida", "Tarragona"),
        "S.L.",
        ("Montjuïc", "Ebre", "Garraf", "Montseny", "Llobregat", "Penedès", "Empordà", "Besòs",
         "Cerdanya", "Tibidabo", "Priorat"),
        ("Jordi Ferrer", "Montserrat Vidal", "Pau Martínez", "Marta Serra", "Oriol Roca",
         "Laia Sánchez", "Xavier Castells", "Carme Muñoz", "Sergio Ibáñez", "Begoña Argüelles",
         "Iñaki Puig", "Núria Puigdomènech"),
    ),
    ClusterRegion(
        "lyon", "ville-durable-aura", "Cluster Ville Durable Auvergne-Rhône-Alpes",
        "Ville Durable AURA", "FR", "Auvergne-Rhône-Alpes", "Lyon",
        ("Lyon", "Villeurbanne", "Grenoble", "Saint-Étienne", "Annecy", "Vénissieux"), "SAS",
        ("Fourvière", "Confluence", "Croix-Rousse", "Rhônalpine", "Bellecour", "Saône",
         "Vercors", "Chartreuse", "Presqu'île", "Gerland", "Écrins"),
        ("Camille Lefèvre", "Étienne Moreau", "Léa Girard", "Théo Fontaine", "Chloé Rousseau",
         "Hugo Chevalier", "Amélie Bérard", "Benoît Gauthier", "Margaux Mercier", "Loïc Lambert",
         "Inès Faure", "Hélène Dubois"),
    ),
    ClusterRegion(
        "torino", "citta-intelligente-piemonte", "Polo Città Intelligente Piemonte",
        "Città Intelligente", "IT", "Piedmont", "Torino",
        ("Torino", "Novara", "Cuneo", "Asti", "Alessandria", "Ivrea"), "S.r.l.",
        ("Mole", "Valentino", "Superga", "Lingotto", "Dora", "Monviso", "Langhe", "Viù",
         "Canavese", "Sangone", "Roero"),
        ("Giulia Rossi", "Matteo Bianchi", "Chiara Ferrero", "Lorenzo Gallo", "Francesca Conti",
         "Davide Marino", "Martina Greco", "Niccolò Bruno", "Elisa Ricci", "Federico Fabbri",
         "Sara Lombardi", "Alessandro Cavalli"),
    ),
    ClusterRegion(
        "porto", "cidades-inteligentes-norte", "Cluster Cidades Inteligentes do Norte",
        "Cidades Norte", "PT", "Norte", "Porto",
        ("Porto", "Braga", "Guimarães", "Vila Nova de Gaia", "Matosinhos", "Viana do Castelo"),
        "Lda.",
        ("Ribeira", "Douro", "Foz", "Alfândega", "Gerês", "Marão", "Cávado", "Leça", "Boavista",
         "Aliança", "Sé Nova"),
        ("Inês Silva", "João Carvalho", "Beatriz Magalhães", "Tiago Fernandes",
         "Mariana Gonçalves", "Gonçalo Sousa", "Sofia Araújo", "Rui Monteiro",
         "Catarina Pereira", "Nuno Lopes", "Leonor Brandão", "Joana Figueiredo"),
    ),
    ClusterRegion(
        "wroclaw", "klaster-dolny-slask", "Dolnośląski Klaster Inteligentnego Miasta",
        "Klaster Dolny Śląsk", "PL", "Lower Silesia", "Wrocław",
        ("Wrocław", "Legnica", "Wałbrzych", "Jelenia Góra", "Świdnica"), "sp. z o.o.",
        ("Odra", "Ślęża", "Karkonosze", "Ostrów", "Sudety", "Bystrzyca", "Oława", "Nadodrze",
         "Śnieżka", "Złoty Stok", "Rynek"),
        ("Agnieszka Nowak", "Paweł Wójcik", "Katarzyna Kaczmarek", "Tomasz Mazur",
         "Małgorzata Krawczyk", "Łukasz Zając", "Joanna Król", "Michał Wróbel", "Zofia Pawlak",
         "Krzysztof Dudek", "Ewa Sikora", "Wojciech Michalak"),
    ),
    ClusterRegion(
        "thessaloniki", "smart-city-central-macedonia", "Smart City Cluster of Central Macedonia",
        "Smart City Macedonia", "GR", "Central Macedonia", "Thessaloniki",
        ("Thessaloniki", "Kalamaria", "Thermi", "Serres", "Katerini"), "IKE",
        ("Thermaikos", "Vardaris", "Lefkos Pyrgos", "Olympos", "Axios", "Chalkidiki", "Rotonda",
         "Ladadika", "Pylaia", "Aliakmonas", "Kassandra"),
        ("Eleni Papadopoulou", "Nikos Karagiannis", "Maria Oikonomou", "Giorgos Alexiou",
         "Katerina Georgiou", "Dimitris Vlachos", "Sofia Nikolaidou", "Kostas Dimitriou",
         "Anna Zografou", "Yannis Papageorgiou", "Despina Hatzi", "Vasilis Tsoukalas"),
    ),
    ClusterRegion(
        "tampere", "urban-tech-pirkanmaa", "Pirkanmaa Urban Technology Cluster",
        "Urban Tech Pirkanmaa", "FI", "Pirkanmaa", "Tampere",
        ("Tampere", "Ylöjärvi", "Nokia", "Kangasala", "Pirkkala", "Lempäälä"), "Oy",
        ("Näsijärvi", "Pyynikki", "Tammerkoski", "Pispala", "Härmälä", "Kaleva", "Hervanta",
         "Pyhäjärvi", "Lielahti", "Ratina", "Viinikka"),
        ("Aino Virtanen", "Mikko Mäkinen", "Emilia Nieminen", "Juha Hämäläinen",
         "Sanna Koskinen", "Ville Heikkinen", "Heidi Järvinen", "Antti Lehtonen",
         "Päivi Rantanen", "Jari Salminen", "Kaisa Laaksonen", "Tuomas Kärkkäinen"),
    ),
)
CLUSTER_BY_KEY = {cluster.key: cluster for cluster in MEMBER_CLUSTERS}
CLUSTER_BY_SLUG = {cluster.slug: cluster for cluster in MEMBER_CLUSTERS}


class PartnerSpec(NamedTuple):
    slug: str
    name: str
    short_name: str
    kind: PartnerKind
    country: str
    region: str
    city: str
    description: str


# The beachheads and EC2I as the report names them.
OTHER_PARTNERS = (
    PartnerSpec(
        "ipi-singapore", "IPI Singapore", "IPI", PartnerKind.BEACHHEAD, "SG", "Singapore",
        "Singapore",
        "Beachhead in Singapore: the interface between SmartCityTech's members and "
        "Singapore's innovation ecosystem. Hosted the fact-finding and outbound missions.",
    ),
    PartnerSpec(
        "necec", "NECEC", "NECEC", PartnerKind.BEACHHEAD, "US", "Massachusetts", "Boston",
        "Beachhead in Boston: opens the clean-energy and smart-city network of New England "
        "to European delegations.",
    ),
    PartnerSpec(
        "bridge-innovation-partners", "Bridge Innovation Partners", "BIP",
        PartnerKind.BEACHHEAD, "US", "New York", "New York",
        "Beachhead in New York: organizes meetings with companies and city stakeholders.",
    ),
    PartnerSpec(
        "ec2i", "EC2I", "EC2I", PartnerKind.NETWORK, "EU", "", "",
        "A fellow European Strategic Cluster Partnership; SmartCityTech teamed up with it "
        "for the activities towards the USA.",
    ),
)

# EC2I's clusters: not members, but the partnership counts their involvement.
EC2I_CLUSTERS = (
    PartnerSpec("mobilitaet-stuttgart", "Mobilitätscluster Region Stuttgart",
                "Mobilität Stuttgart", PartnerKind.CLUSTER, "DE", "Baden-Württemberg",
                "Stuttgart", "A cluster of EC2I."),
    PartnerSpec("urban-systems-goteborg", "Göteborg Urban Systems Cluster",
                "Urban Systems Göteborg", PartnerKind.CLUSTER, "SE", "Västra Götaland",
                "Göteborg", "A cluster of EC2I."),
    PartnerSpec("smart-industry-steiermark", "Smart Industry Cluster Steiermark",
                "Smart Industry Steiermark", PartnerKind.CLUSTER, "AT", "Styria", "Graz",
                "A cluster of EC2I."),
    PartnerSpec("digital-cities-munster", "Munster Digital Cities Cluster",
                "Digital Cities Munster", PartnerKind.CLUSTER, "IE", "Munster", "Cork",
                "A cluster of EC2I."),
    PartnerSpec("smart-cluster-brno", "Jihomoravský Smart Cluster", "Smart Cluster Brno",
                PartnerKind.CLUSTER, "CZ", "South Moravia", "Brno", "A cluster of EC2I."),
    PartnerSpec("pametna-mesta-ljubljana", "Grozd Pametna Mesta Ljubljana",
                "Pametna Mesta", PartnerKind.CLUSTER, "SI", "Central Slovenia", "Ljubljana",
                "A cluster of EC2I."),
    PartnerSpec("urban-data-harju", "Harju Urban Data Cluster", "Urban Data Harju",
                PartnerKind.CLUSTER, "EE", "Harju County", "Tallinn", "A cluster of EC2I."),
    PartnerSpec("ismanusis-kaunas", "Kauno išmaniųjų technologijų klasteris",
                "Išmanusis Kaunas", PartnerKind.CLUSTER, "LT", "Kaunas County", "Kaunas",
                "A cluster of EC2I."),
)


# --------------------------------------------------------------------------- demo accounts


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    name: str
    can: str
    grant: Role | None = None
    partner: str | None = None  # slug of the partner the grant is held for


AALBORG = CLUSTER_BY_KEY["aalborg"]
BARCELONA = CLUSTER_BY_KEY["barcelona"]
# Organizes no upcoming event, but its companies apply to the Singapore mission: its
# manager decides those and sees no one else's, beside the organizers who decide anyone.
TAMPERE = CLUSTER_BY_KEY["tampere"]
DEMO_SME_ORGANIZATION = "Limfjord Urban Sensing ApS"

DEMO_ACCOUNTS = (
    DemoAccount(
        "Admin (consortium coordinator)", f"admin@{DEMO_DOMAIN}", "Annelies Verbrugghe",
        "runs every event, partner and account", Role.ADMIN,
    ),
    DemoAccount(
        "Partner manager, Smart City Nord (Aalborg, DK)", AALBORG.manager_email,
        AALBORG.manager_name,
        "organizes the Singapore, Barcelona and draft India missions: decides all their "
        "applicants",
        Role.PARTNER_MANAGER, AALBORG.slug,
    ),
    DemoAccount(
        "Partner manager, Ciutat Digital (Barcelona, ES)", BARCELONA.manager_email,
        BARCELONA.manager_name,
        "organizes the Singapore and Barcelona missions: decides all their applicants",
        Role.PARTNER_MANAGER, BARCELONA.slug,
    ),
    DemoAccount(
        "Partner manager, Urban Tech Pirkanmaa (Tampere, FI)", TAMPERE.manager_email,
        TAMPERE.manager_name,
        "organizes none of them: decides only its own cluster's applicants to Singapore",
        Role.PARTNER_MANAGER, TAMPERE.slug,
    ),
    DemoAccount(
        "Beachhead host, IPI Singapore", f"host.ipi@{DEMO_DOMAIN}", "Tan Wei Ling",
        "sees the approved delegations of the missions IPI hosts", Role.BEACHHEAD_HOST,
        "ipi-singapore",
    ),
    DemoAccount(
        "Beachhead host, NECEC (Boston)", f"host.necec@{DEMO_DOMAIN}", "Megan O'Connell",
        "sees the approved delegations of the missions NECEC hosts", Role.BEACHHEAD_HOST,
        "necec",
    ),
    DemoAccount(
        f"SME member, {DEMO_SME_ORGANIZATION}", f"sme@{DEMO_DOMAIN}", "Astrid Sønderby",
        "applies to missions and webinars; has past registrations and a pending application",
    ),
)
ADMIN = DEMO_ACCOUNTS[0]
DEMO_SME = DEMO_ACCOUNTS[-1]


# --------------------------------------------------------------------------- organizations


class OrganizationSpec(NamedTuple):
    name: str
    country: str
    city: str
    sector: str
    size: OrganizationSize
    helix: Helix
    website: str
    profile: str
    home_cluster: str | None  # partner slug


class PersonSpec(NamedTuple):
    email: str
    name: str
    organization: str | None  # organization name
    password: str | None = None
    grant: Role | None = None
    partner: str | None = None


# (sector, the word companies of that sector put in their name, what they do)
SECTORS = (
    ("Urban mobility", "Mobility",
     "develop demand-responsive transport and routing software for mid-sized cities"),
    ("Smart energy", "Energy",
     "manage energy in public buildings and district heating networks"),
    ("IoT sensing", "Sensors",
     "build low-power sensor networks that measure air quality and noise"),
    ("Urban data platforms", "Data",
     "run open urban data platforms and dashboards for municipalities"),
    ("Water management", "Water", "detect leaks and meter consumption for water utilities"),
    ("Smart lighting", "Lighting",
     "make street lighting adaptive, dimming it to traffic and weather"),
    ("Waste and circularity", "Circular",
     "plan waste collection around fill-level sensors and optimized routes"),
    ("Building technology", "Buildings", "automate buildings and analyse their indoor climate"),
    ("Digital government", "GovTech", "build platforms for citizen services and participation"),
    ("Digital twins", "Twin", "model cities in 3D for planning and simulation"),
    ("Public safety", "Safety",
     "analyse crowds and traffic in public spaces without identifying anyone"),
)
SIZES = (OrganizationSize.MICRO, OrganizationSize.SMALL, OrganizationSize.MEDIUM)
SIZE_WEIGHTS = (3, 5, 2)
TEAMS = {
    OrganizationSize.MICRO: "A founder-led team of fewer than ten",
    OrganizationSize.SMALL: "A team of about thirty",
    OrganizationSize.MEDIUM: "Around 150 people",
}
AMBITIONS = (
    "Looking for pilot partners in Singapore.",
    "Looking for a distributor on the US East Coast.",
    "Interested in joint R&D projects with partners in Southeast Asia.",
    "Looking for city pilots outside Europe.",
    "Preparing a first reference project in North America.",
)

# Research and government: the other strands of the triple helix.
# (home cluster key, name, helix, size, city, sector, profile, contact, past missions joined)
TRIPLE_HELIX = (
    ("aalborg", "Nordjysk Institut for Bæredygtige Byer", Helix.RESEARCH,
     OrganizationSize.LARGE, "Aalborg", "Urban sustainability research",
     "Applied research on energy, mobility and planning in mid-sized cities.",
     "Anne-Mette Ravnkilde", ("fact-finding-mission-singapore-2018",)),
    ("gent", "Stadslab Gent", Helix.GOVERNMENT, OrganizationSize.MEDIUM, "Gent",
     "Municipal innovation", "The city's lab that pilots smart-city solutions with companies.",
     "Koen Verstraete", ("fact-finding-mission-singapore-2018",)),
    ("lyon", "Agence Métropolitaine des Données Urbaines", Helix.GOVERNMENT,
     OrganizationSize.MEDIUM, "Lyon", "Open data",
     "Publishes the metropolitan area's urban data and runs its open-data programme.",
     "Sébastien Roux", ("fact-finding-mission-boston-new-york-2018",)),
    ("barcelona", "Institut de Recerca en Ciutats Intel·ligents", Helix.RESEARCH,
     OrganizationSize.LARGE, "Barcelona", "Smart-city research",
     "Research on urban data, mobility and energy, with living labs across Catalonia.",
     "Arnau Solà", ("inbound-mission-smart-city-expo-barcelona-2018",
                    "inbound-mission-smart-city-expo-barcelona-2019")),
    ("tampere", "Pirkanmaan älykaupunkitoimisto", Helix.GOVERNMENT, OrganizationSize.MEDIUM,
     "Tampere", "Regional development",
     "The region's smart-city office: procurement of innovation and pilot platforms.",
     "Riikka Hyvönen", ("outbound-mission-singapore-smart-city-summit-2018",)),
    ("wroclaw", "Instytut Rozwoju Miast Dolnośląskich", Helix.RESEARCH,
     OrganizationSize.MEDIUM, "Wrocław", "Urban development research",
     "Research and advice on the development of Lower Silesia's cities.",
     "Dorota Górecka", ("outbound-mission-singapore-innovfest-unbound-2019",)),
)

# Stakeholders in the target regions: no home cluster; they came to Barcelona.
# (name, country, city, helix, size, sector, profile, contact, past missions joined)
TARGET_REGION_ORGANIZATIONS = (
    ("Tanjong Urban Analytics Pte. Ltd.", "SG", "Singapore", Helix.INDUSTRY,
     OrganizationSize.SMALL, "Urban data platforms",
     "Analytics for estate management and urban planning in Southeast Asia.", "Priya Raman",
     ("inbound-mission-smart-city-expo-barcelona-2018",
      "inbound-mission-smart-city-expo-barcelona-2019")),
    ("Straits Institute for Liveable Systems", "SG", "Singapore", Helix.RESEARCH,
     OrganizationSize.MEDIUM, "Urban systems research",
     "Research on dense, liveable and resilient cities.", "Lim Hui Min",
     ("inbound-mission-smart-city-expo-barcelona-2019",)),
    ("Back Bay Grid Analytics Inc.", "US", "Boston", Helix.INDUSTRY, OrganizationSize.SMALL,
     "Smart energy", "Forecasting and flexibility services for urban grids.",
     "Daniel Whitaker", ("inbound-mission-smart-city-expo-barcelona-2018",
                         "inbound-mission-smart-city-expo-barcelona-2019")),
    ("Charles River Climate Lab", "US", "Cambridge", Helix.RESEARCH, OrganizationSize.MEDIUM,
     "Climate adaptation research", "Research on heat, flooding and adaptation in coastal cities.",
     "Rebecca Alvarez", ("inbound-mission-smart-city-expo-barcelona-2019",)),
    ("Hudson Street Mobility LLC", "US", "New York", Helix.INDUSTRY, OrganizationSize.SMALL,
     "Urban mobility", "Curbside management and delivery-zone booking for dense cities.",
     "Marcus Greene", ("inbound-mission-smart-city-expo-barcelona-2018",
                       "inbound-mission-smart-city-expo-barcelona-2019")),
    ("Gowanus Civic Technology Inc.", "US", "New York", Helix.INDUSTRY, OrganizationSize.MICRO,
     "Digital government", "Participation tools for community boards and city agencies.",
     "Aisha Thompson", ("inbound-mission-smart-city-expo-barcelona-2018",
                        "inbound-mission-smart-city-expo-barcelona-2019")),
)


# Recorded for their agreements only, without accounts: the report's city of Aalborg, and
# its first partner in India (invented).
CITY_OF_AALBORG = "Aalborg Kommune"
INDIA_PARTNER = "Deccan Urban Innovation Foundation"
AGREEMENT_ORGANIZATIONS = (
    OrganizationSpec(CITY_OF_AALBORG, "DK", "Aalborg", "Municipality", OrganizationSize.LARGE,
                     Helix.GOVERNMENT, "", "The city of Aalborg.", "smart-city-nord"),
    OrganizationSpec(INDIA_PARTNER, "IN", "Pune", "Urban innovation",
                     OrganizationSize.MEDIUM, Helix.GOVERNMENT, "",
                     "A foundation of Pune's city agencies for urban innovation projects.", None),
)


# --------------------------------------------------------------------------- events


class AgendaItem(NamedTuple):
    """An agenda item, `day` days after the event's first day; all day when `hours` is None."""

    day: int
    kind: SessionKind
    title: str
    hours: tuple[str, str] | None = None  # local start and end, "HH:MM"
    venue: str = ""
    days: int = 1  # how many days an all-day item spans


@dataclass(frozen=True)
class EventSpec:
    slug: str
    kind: EventKind
    title: str
    summary: str
    description: str
    country: str
    city: str
    venue: str
    timezone: str
    first_day: date
    days: int = 1
    hours: tuple[str, str] = ("09:00", "22:00")  # local start on the first day, end on the last
    capacity: int | None = None
    requires_approval: bool = True
    organizers: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    agenda: tuple[AgendaItem, ...] = ()
    webinar: str = ""  # the title of the webinar that promotes a mission
    status: EventStatus = EventStatus.PUBLISHED
    registration_opens: date | None = None
    registration_closes: date | None = None
    announced: date | None = None  # when it was created; by default when registration opened
    recording_url: str = ""

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


SINGAPORE = "Asia/Singapore"
NEW_YORK = "America/New_York"
MADRID = "Europe/Madrid"
# The webinars are given from Europe, for a European audience.
WEBINAR_ZONE = "Europe/Brussels"

MISSION_CALL = timedelta(weeks=10)  # registration opens this long before a mission
MISSION_DEADLINE = timedelta(weeks=3)  # and closes this long before it
WEBINAR_CALL = timedelta(weeks=4)
WEBINAR_LEAD = timedelta(weeks=6)  # a mission's webinar comes this long before it

BARCELONA_EXPO_AGENDA = (
    AgendaItem(0, SessionKind.CONFERENCE, "Smart City Expo World Congress: expo and congress",
               venue="Fira de Barcelona – Gran Via", days=3),
    AgendaItem(0, SessionKind.WORKSHOP, "Workshop with stakeholders from Singapore and the USA",
               ("14:00", "16:30"), "Meeting room, Fira de Barcelona – Gran Via"),
    AgendaItem(1, SessionKind.MATCHMAKING, "B2B matchmaking at the partners' booths",
               ("10:00", "13:00"), "Expo floor, Fira de Barcelona – Gran Via"),
    AgendaItem(1, SessionKind.RECEPTION, "Cocktail reception", ("19:00", "21:30"),
               "Barcelona city centre"),
)
BARCELONA_DESCRIPTION = (
    "Internationalization is a two-way street. During the Smart City Expo World Congress "
    "SmartCityTech welcomes stakeholders from Singapore, Boston and New York: a workshop "
    "with them and the beachheads, B2B matchmaking on the partners' booths, and a cocktail "
    "reception to get further acquainted.\n\n"
    "European SMEs join the matchmaking and the reception; apply through your cluster."
)

PAST_MISSIONS = (
    EventSpec(
        "fact-finding-mission-singapore-2018", EventKind.FACT_FINDING_MISSION,
        "Fact-finding mission to Singapore",
        "Getting acquainted with Singapore's smart-city ecosystem and choosing a beachhead.",
        "A small delegation of cluster managers, researchers and pioneering SMEs meets "
        "Singapore's agencies, companies and intermediaries, to understand the market and "
        "select a beachhead: an organization embedded in the local ecosystem that can act as "
        "the interface for European companies.\n\nIPI Singapore hosts the programme.",
        "SG", "Singapore", "Various locations in Singapore", SINGAPORE, date(2018, 3, 12),
        days=4, capacity=15,
        organizers=("smart-city-nord", "smart-urbanism-flanders", "urban-living-brabant"),
        hosts=("ipi-singapore",),
        agenda=(
            AgendaItem(0, SessionKind.OTHER, "Briefing on Singapore's innovation ecosystem",
                       ("09:30", "12:00"), "IPI Singapore"),
            AgendaItem(0, SessionKind.VISIT, "Visit to a smart-estate pilot", ("14:00", "17:00"),
                       "Punggol"),
            AgendaItem(1, SessionKind.VISIT, "Meetings with candidate beachhead organizations"),
            AgendaItem(2, SessionKind.VISIT, "Site visits: urban mobility and water",
                       ("09:00", "16:00")),
            AgendaItem(3, SessionKind.WORKSHOP, "Debrief: choosing the beachhead partner",
                       ("09:30", "12:00"), "IPI Singapore"),
        ),
        webinar="Webinar: why Singapore? Preparing the fact-finding mission",
    ),
    EventSpec(
        "outbound-mission-singapore-smart-city-summit-2018", EventKind.OUTBOUND_MISSION,
        "Outbound mission to the Smart City Summit Singapore",
        "Meet Singapore's smart-city buyers and partners at the Smart City Summit.",
        "The first outbound mission of ESCT Go Global takes European smart-city SMEs to "
        "Singapore during the Smart City Summit. With IPI Singapore as beachhead, the "
        "delegation visits the summit and its expo, meets Singapore companies in prepared "
        "B2B meetings and sees pilots on site.\n\nEach cluster selects its companies; apply "
        "through your cluster.",
        "SG", "Singapore", "Marina Bay, Singapore", SINGAPORE, date(2018, 7, 8), days=5,
        capacity=30,
        organizers=("smart-city-nord", "ciutat-digital-catalunya", "cidades-inteligentes-norte",
                    "urban-tech-pirkanmaa"),
        hosts=("ipi-singapore",),
        agenda=(
            AgendaItem(0, SessionKind.OTHER, "Delegation briefing at IPI Singapore",
                       ("15:00", "17:00"), "IPI Singapore"),
            AgendaItem(1, SessionKind.CONFERENCE, "Smart City Summit: conference and expo",
                       venue="Marina Bay", days=2),
            AgendaItem(2, SessionKind.MATCHMAKING, "B2B matchmaking with Singapore companies",
                       ("10:00", "13:00"), "Marina Bay"),
            AgendaItem(3, SessionKind.VISIT, "Company visits: mobility, water and buildings",
                       ("09:00", "16:30")),
            AgendaItem(3, SessionKind.RECEPTION,
                       "Networking reception with the Singapore ecosystem", ("18:30", "21:00")),
            AgendaItem(4, SessionKind.WORKSHOP, "Follow-up workshop: next steps with IPI",
                       ("09:30", "11:30"), "IPI Singapore"),
        ),
        webinar="Webinar: Singapore, gateway to Southeast Asia's smart cities",
    ),
    EventSpec(
        "fact-finding-mission-boston-new-york-2018", EventKind.FACT_FINDING_MISSION,
        "Fact-finding mission to Boston and New York",
        "Exploring Boston and New York with EC2I and selecting beachheads in the USA.",
        "Together with the fellow partnership EC2I, cluster managers and a few SMEs meet the "
        "clean-tech and smart-city ecosystems of Boston and New York. Joining two European "
        "partnerships opens doors that would stay closed to one.\n\nNECEC in Boston and "
        "Bridge Innovation Partners in New York host the visits.",
        "US", "Boston and New York", "Boston and New York", NEW_YORK, date(2018, 10, 15),
        days=5, capacity=20,
        organizers=("smart-urbanism-flanders", "ville-durable-aura", "citta-intelligente-piemonte",
                    "ec2i", "mobilitaet-stuttgart", "urban-systems-goteborg",
                    "smart-industry-steiermark", "digital-cities-munster"),
        hosts=("bridge-innovation-partners", "necec"),
        agenda=(
            AgendaItem(0, SessionKind.OTHER, "Meeting Boston's clean-tech and smart-city ecosystem",
                       ("09:30", "12:30"), "Boston"),
            AgendaItem(0, SessionKind.VISIT, "Visits to innovation districts", ("14:00", "17:30"),
                       "Boston"),
            AgendaItem(1, SessionKind.WORKSHOP, "Workshop with NECEC: a beachhead in Boston",
                       ("09:30", "12:30"), "Boston"),
            AgendaItem(3, SessionKind.VISIT, "Meetings with candidate partners in New York",
                       venue="New York"),
            AgendaItem(4, SessionKind.WORKSHOP, "Workshop with Bridge Innovation Partners and EC2I",
                       ("10:00", "13:00"), "New York"),
        ),
        webinar="Webinar: the USA with EC2I, preparing the fact-finding mission",
    ),
    EventSpec(
        "inbound-mission-smart-city-expo-barcelona-2018", EventKind.INBOUND_MISSION,
        "Inbound mission at Smart City Expo World Congress 2018",
        "Meet stakeholders from Singapore and the USA at the Smart City Expo World Congress.",
        BARCELONA_DESCRIPTION, "ES", "Barcelona", "Fira de Barcelona – Gran Via", MADRID,
        date(2018, 11, 13), days=3, capacity=60,
        organizers=("ciutat-digital-catalunya", "smart-city-nord"),
        hosts=("bridge-innovation-partners", "ipi-singapore", "necec"),
        agenda=BARCELONA_EXPO_AGENDA,
        webinar="Webinar: meeting Singapore and the USA in Barcelona",
    ),
    EventSpec(
        "outbound-mission-singapore-innovfest-unbound-2019", EventKind.OUTBOUND_MISSION,
        "Outbound mission to Innovfest Unbound Singapore",
        "A delegation of European smart-city SMEs at Innovfest Unbound, with IPI Singapore.",
        "The second outbound mission to Singapore. The delegation joins Innovfest Unbound, "
        "meets Singapore corporates and agencies in B2B meetings, visits digital-twin and "
        "smart-estate projects, and builds consortia with Singapore partners for the Eureka "
        "Global Stars call.\n\nApply through your cluster; places per cluster are limited.",
        "SG", "Singapore", "Singapore", SINGAPORE, date(2019, 6, 24), days=5, capacity=30,
        organizers=("smart-city-nord", "urban-living-brabant", "klaster-dolny-slask",
                    "smart-city-central-macedonia"),
        hosts=("ipi-singapore",),
        agenda=(
            AgendaItem(0, SessionKind.OTHER, "Delegation briefing at IPI Singapore",
                       ("14:00", "16:00"), "IPI Singapore"),
            AgendaItem(1, SessionKind.CONFERENCE, "Innovfest Unbound: conference and expo", days=2),
            AgendaItem(2, SessionKind.MATCHMAKING,
                       "B2B matchmaking with Singapore corporates and agencies",
                       ("10:00", "13:00")),
            AgendaItem(3, SessionKind.VISIT, "Site visits: digital twins and smart estates",
                       ("09:00", "16:00")),
            AgendaItem(3, SessionKind.RECEPTION, "Networking reception with IPI's network",
                       ("18:30", "21:00")),
            AgendaItem(4, SessionKind.WORKSHOP,
                       "Eureka Global Stars: building consortia with Singapore partners",
                       ("09:30", "12:00"), "IPI Singapore"),
        ),
        webinar="Webinar: Innovfest Unbound and the Eureka Global Stars call",
    ),
    EventSpec(
        "outbound-mission-usa-boston-new-york-2019", EventKind.OUTBOUND_MISSION,
        "Outbound mission to the USA: Boston and New York",
        "B2B meetings and visits in Boston and New York with NECEC and Bridge Innovation "
        "Partners.",
        "The outbound mission to the USA, prepared with EC2I, brings European SMEs to the "
        "East Coast. In Boston NECEC opens its clean-energy network; in New York Bridge "
        "Innovation Partners organizes meetings with companies and city stakeholders.\n\n"
        "Apply through your cluster.",
        "US", "Boston and New York", "Boston and New York", NEW_YORK, date(2019, 10, 21),
        days=5, capacity=30,
        organizers=("smart-urbanism-flanders", "ville-durable-aura", "citta-intelligente-piemonte",
                    "cidades-inteligentes-norte", "ec2i", "smart-cluster-brno",
                    "pametna-mesta-ljubljana", "urban-data-harju", "ismanusis-kaunas"),
        hosts=("bridge-innovation-partners", "necec"),
        agenda=(
            AgendaItem(0, SessionKind.OTHER, "Delegation briefing with NECEC", ("09:00", "10:30"),
                       "Boston"),
            AgendaItem(0, SessionKind.VISIT, "Visits: clean energy and urban mobility in Boston",
                       ("11:00", "17:00"), "Boston"),
            AgendaItem(1, SessionKind.MATCHMAKING, "B2B matchmaking with Boston companies",
                       ("09:30", "13:00"), "Boston"),
            AgendaItem(1, SessionKind.RECEPTION, "Reception with the Boston ecosystem",
                       ("18:00", "20:30"), "Boston"),
            AgendaItem(3, SessionKind.CONFERENCE, "Smart-city innovation day in New York",
                       venue="New York"),
            AgendaItem(4, SessionKind.MATCHMAKING, "B2B matchmaking with New York companies",
                       ("10:00", "13:00"), "New York"),
            AgendaItem(4, SessionKind.WORKSHOP,
                       "Wrap-up with Bridge Innovation Partners and EC2I", ("14:30", "16:30"),
                       "New York"),
        ),
        webinar="Webinar: doing business in Boston and New York",
    ),
    EventSpec(
        "inbound-mission-smart-city-expo-barcelona-2019", EventKind.INBOUND_MISSION,
        "Inbound mission at Smart City Expo World Congress 2019",
        "Meet stakeholders from Singapore and the USA at the Smart City Expo World Congress.",
        BARCELONA_DESCRIPTION, "ES", "Barcelona", "Fira de Barcelona – Gran Via", MADRID,
        date(2019, 11, 19), days=3, capacity=60,
        organizers=("ciutat-digital-catalunya", "ville-durable-aura", "urban-tech-pirkanmaa"),
        hosts=("bridge-innovation-partners", "ipi-singapore", "necec"),
        agenda=BARCELONA_EXPO_AGENDA,
        webinar="Webinar: your B2B meetings at Smart City Expo World Congress 2019",
    ),
)


def _upcoming_missions(now: datetime) -> dict[str, EventSpec]:
    """The next missions, a few months ahead of `now`, on whole days of their own zone."""
    singapore_day = _monday_on_or_after(_today(now, SINGAPORE) + timedelta(weeks=13))
    usa_day = _monday_on_or_after(_today(now, NEW_YORK) + timedelta(weeks=17))
    expo_day = _next_expo_day(_today(now, MADRID) + timedelta(weeks=10))
    india_day = _monday_on_or_after(_today(now, "Asia/Kolkata") + timedelta(weeks=26))
    return {
        "singapore": EventSpec(
            f"outbound-mission-singapore-{singapore_day.year}", EventKind.OUTBOUND_MISSION,
            f"Outbound mission to Singapore {singapore_day.year}",
            "Urban solutions week with IPI Singapore: a conference day, B2B meetings and site "
            "visits.",
            "SmartCityTech returns to Singapore with its beachhead IPI Singapore. The "
            "delegation joins a conference day on urban solutions in Southeast Asia, meets "
            "Singapore companies and agencies in prepared B2B meetings, visits pilots, and "
            "builds consortia for international innovation projects.\n\nApply through your "
            "cluster: it reviews the applications of its own companies.",
            "SG", "Singapore", "Singapore", SINGAPORE, singapore_day, days=4, capacity=25,
            organizers=("ciutat-digital-catalunya", "smart-city-nord", "urban-living-brabant"),
            hosts=("ipi-singapore",),
            agenda=(
                AgendaItem(0, SessionKind.OTHER, "Delegation briefing at IPI Singapore",
                           ("14:00", "16:00"), "IPI Singapore"),
                AgendaItem(0, SessionKind.RECEPTION, "Welcome dinner with the beachhead",
                           ("19:00", "21:30")),
                AgendaItem(1, SessionKind.CONFERENCE,
                           "Conference day: urban solutions in Southeast Asia"),
                AgendaItem(2, SessionKind.MATCHMAKING, "B2B matchmaking with Singapore companies",
                           ("09:30", "12:30")),
                AgendaItem(2, SessionKind.VISIT, "Visit to a digital-twin and urban-planning lab",
                           ("14:30", "17:00")),
                AgendaItem(3, SessionKind.VISIT, "Site visit: a smart estate and district cooling",
                           ("09:00", "12:00")),
                AgendaItem(3, SessionKind.WORKSHOP,
                           "Consortium building for international innovation projects",
                           ("14:00", "16:30"), "IPI Singapore"),
            ),
            webinar=f"Webinar: doing business in Singapore, the {singapore_day.year} mission",
        ),
        "usa": EventSpec(
            f"outbound-mission-usa-boston-new-york-{usa_day.year}", EventKind.OUTBOUND_MISSION,
            f"Outbound mission to Boston and New York {usa_day.year}",
            "B2B meetings and visits with NECEC in Boston and Bridge Innovation Partners in "
            "New York.",
            "A week on the US East Coast: NECEC opens its clean-energy and smart-city network "
            "in Boston, Bridge Innovation Partners organizes meetings with companies and city "
            "stakeholders in New York.\n\nApply through your cluster.",
            "US", "Boston and New York", "Boston and New York", NEW_YORK, usa_day, days=5,
            capacity=25,
            organizers=("klaster-dolny-slask", "smart-urbanism-flanders", "ville-durable-aura"),
            hosts=("bridge-innovation-partners", "necec"),
            agenda=(
                AgendaItem(0, SessionKind.OTHER, "Delegation briefing with NECEC",
                           ("09:00", "10:30"), "Boston"),
                AgendaItem(0, SessionKind.VISIT, "Visits: clean energy in Boston",
                           ("11:00", "17:00"), "Boston"),
                AgendaItem(1, SessionKind.MATCHMAKING, "B2B matchmaking with Boston companies",
                           ("09:30", "13:00"), "Boston"),
                AgendaItem(3, SessionKind.CONFERENCE, "Smart-city innovation day in New York",
                           venue="New York"),
                AgendaItem(4, SessionKind.MATCHMAKING, "B2B matchmaking with New York companies",
                           ("10:00", "13:00"), "New York"),
                AgendaItem(4, SessionKind.RECEPTION, "Closing reception", ("18:00", "20:30"),
                           "New York"),
            ),
            webinar=f"Webinar: meet the Boston and New York beachheads, the {usa_day.year} "
                    "mission",
        ),
        "barcelona": EventSpec(
            f"inbound-mission-smart-city-expo-barcelona-{expo_day.year}",
            EventKind.INBOUND_MISSION,
            f"Inbound mission at Smart City Expo World Congress {expo_day.year}",
            "Meet stakeholders from Singapore and the USA at the Smart City Expo World "
            "Congress.",
            BARCELONA_DESCRIPTION, "ES", "Barcelona", "Fira de Barcelona – Gran Via", MADRID,
            expo_day, days=3, capacity=60,
            organizers=("ciutat-digital-catalunya", "cidades-inteligentes-norte",
                        "smart-city-nord"),
            hosts=("bridge-innovation-partners", "ipi-singapore", "necec"),
            agenda=BARCELONA_EXPO_AGENDA,
            webinar=f"Webinar: your B2B meetings at Smart City Expo World Congress "
                    f"{expo_day.year}",
        ),
        # The report's first opportunity between Aalborg and India, still being prepared.
        "india": EventSpec(
            f"fact-finding-mission-india-{india_day.year}", EventKind.FACT_FINDING_MISSION,
            f"Fact-finding mission to India {india_day.year}",
            "Exploring a first collaboration between Aalborg and Indian smart cities.",
            "Draft. Following up the first collaboration opportunity between the city of "
            "Aalborg and India: a small delegation explores the smart-city programmes of "
            "Bengaluru.",
            "IN", "Bengaluru", "Bengaluru", "Asia/Kolkata", india_day, days=4, capacity=12,
            organizers=("smart-city-nord",),
            agenda=(
                AgendaItem(0, SessionKind.OTHER, "Briefing on India's smart-city programmes",
                           ("10:00", "12:30")),
                AgendaItem(1, SessionKind.VISIT, "Meetings with city agencies and companies"),
            ),
            status=EventStatus.DRAFT,
            announced=_today(now, "Asia/Kolkata"),
        ),
    }


# --------------------------------------------------------------------------- registrations


APPLICANT, DECIDER = "applicant", "decider"

# The paths applications took: (status, days after applying, who acted, kind of reason).
OUTCOMES: dict[str, tuple[tuple[S, int, str, str], ...]] = {
    "submitted": ((S.SUBMITTED, 0, APPLICANT, ""),),
    "approved": ((S.SUBMITTED, 0, APPLICANT, ""), (S.APPROVED, 5, DECIDER, "")),
    "approved_after_waitlist": (
        (S.SUBMITTED, 0, APPLICANT, ""), (S.WAITLISTED, 4, DECIDER, "waitlist"),
        (S.APPROVED, 18, DECIDER, "freed"),
    ),
    "approved_after_reapplying": (
        (S.SUBMITTED, 0, APPLICANT, ""), (S.WITHDRAWN, 2, APPLICANT, "not_yet"),
        (S.SUBMITTED, 9, APPLICANT, ""), (S.APPROVED, 14, DECIDER, ""),
    ),
    "waitlisted": ((S.SUBMITTED, 0, APPLICANT, ""), (S.WAITLISTED, 1, DECIDER, "waitlist")),
    "waitlisted_then_rejected": (
        (S.SUBMITTED, 0, APPLICANT, ""), (S.WAITLISTED, 4, DECIDER, "waitlist"),
        (S.REJECTED, 25, DECIDER, "not_freed"),
    ),
    "rejected": ((S.SUBMITTED, 0, APPLICANT, ""), (S.REJECTED, 6, DECIDER, "reject")),
    "withdrawn": ((S.SUBMITTED, 0, APPLICANT, ""), (S.WITHDRAWN, 3, APPLICANT, "withdraw")),
    "withdrawn_after_approval": (
        (S.SUBMITTED, 0, APPLICANT, ""), (S.APPROVED, 5, DECIDER, ""),
        (S.WITHDRAWN, 20, APPLICANT, "withdraw"),
    ),
    "cancelled": (
        (S.SUBMITTED, 0, APPLICANT, ""), (S.APPROVED, 5, DECIDER, ""),
        (S.CANCELLED, 24, DECIDER, "cancel"),
    ),
    # Webinars need no approval: joining is approval, leaving is withdrawing.
    "joined": ((S.APPROVED, 0, APPLICANT, ""),),
    "left": ((S.APPROVED, 0, APPLICANT, ""), (S.WITHDRAWN, 3, APPLICANT, "")),
    "rejoined": (
        (S.APPROVED, 0, APPLICANT, ""), (S.WITHDRAWN, 2, APPLICANT, ""),
        (S.APPROVED, 5, APPLICANT, ""),
    ),
}
REASONS = {
    "waitlist": (
        "Our cluster's places on this mission are taken; you are on the waiting list.",
        "The delegation is full; we will come back to you if a place frees up.",
    ),
    "freed": ("A place became free after a withdrawal.",),
    "not_freed": ("No place became free before the delegation was finalized.",),
    "reject": (
        "This mission focuses on mobility and energy; your solution fits the next one better.",
        "Your company profile does not yet show a product ready for this market.",
        "Our cluster's places went to companies that already have a local partner in view.",
    ),
    "withdraw": (
        "We cannot travel on these dates.",
        "Our pilot project at home needs the team that week.",
        "The travel budget was not approved in time.",
    ),
    "not_yet": (
        "Our travel budget is not confirmed yet; we will apply again.",
        "We first need our board's approval; we will apply again.",
    ),
    "cancel": (
        "Travel arrangements were not confirmed before the deadline.",
        "The participation agreement was not signed.",
    ),
}


@dataclass(frozen=True)
class Delegation:
    """Who applied to a past mission, besides the demo SME."""

    newcomers: int  # SMEs on their first mission
    returning: tuple[tuple[str, int], ...] = ()  # (earlier mission, how many come back)
    unsuccessful: tuple[str, ...] = ()  # outcomes of the other SMEs' applications
    staff: tuple[str, ...] = ()  # clusters whose manager travelled (fact-finding)


# 108 SMEs in a delegation, plus the demo SME: the report's 109.
PAST_DELEGATIONS = {
    "fact-finding-mission-singapore-2018": Delegation(
        3, unsuccessful=("rejected", "withdrawn"), staff=("aalborg", "gent", "eindhoven"),
    ),
    "outbound-mission-singapore-smart-city-summit-2018": Delegation(
        18,
        unsuccessful=("rejected", "rejected", "withdrawn", "waitlisted_then_rejected",
                      "cancelled", "withdrawn_after_approval", "waitlisted"),
    ),
    "fact-finding-mission-boston-new-york-2018": Delegation(
        3, unsuccessful=("rejected", "withdrawn"), staff=("gent", "lyon", "torino"),
    ),
    "inbound-mission-smart-city-expo-barcelona-2018": Delegation(
        20, unsuccessful=("withdrawn", "withdrawn_after_approval", "cancelled", "rejected"),
    ),
    "outbound-mission-singapore-innovfest-unbound-2019": Delegation(
        20,
        returning=(("outbound-mission-singapore-smart-city-summit-2018", 6),),
        unsuccessful=("rejected", "rejected", "waitlisted_then_rejected",
                      "waitlisted_then_rejected", "withdrawn", "cancelled", "waitlisted"),
    ),
    "outbound-mission-usa-boston-new-york-2019": Delegation(
        22,
        returning=(("fact-finding-mission-boston-new-york-2018", 2),
                   ("inbound-mission-smart-city-expo-barcelona-2018", 4)),
        unsuccessful=("rejected", "waitlisted_then_rejected", "withdrawn", "withdrawn",
                      "cancelled", "withdrawn_after_approval"),
    ),
    "inbound-mission-smart-city-expo-barcelona-2019": Delegation(
        22,
        returning=(("inbound-mission-smart-city-expo-barcelona-2018", 6),
                   ("outbound-mission-singapore-innovfest-unbound-2019", 3)),
        unsuccessful=("withdrawn", "rejected", "cancelled"),
    ),
}
NEVER_DELEGATED = 2  # member SMEs that never joined a delegation
WEBINAR_SHARE = 0.6  # of a mission's applicants who joined its webinar
WEBINAR_NEWCOMERS = 4  # others who only joined the webinar

# The demo SME's own story, by event slug: a webinar, a withdrawal and a mission; then the
# next Singapore mission's webinar and an application waiting for its decision.
DEMO_SME_PAST = (
    ("webinar-outbound-mission-singapore-innovfest-unbound-2019", "joined"),
    ("outbound-mission-singapore-innovfest-unbound-2019", "withdrawn"),
    ("inbound-mission-smart-city-expo-barcelona-2019", "approved"),
)

# How far the upcoming missions' applications have got, by mission.
UPCOMING_OUTCOMES = {
    "singapore": ("approved", "approved", "approved", "waitlisted", "submitted", "submitted"),
    "usa": ("approved", "approved", "submitted", "submitted", "submitted"),
    "barcelona": ("approved", "submitted", "submitted", "submitted"),
}
# Applications to the Singapore mission that wait for their decision on the desk: from
# the organizing demo manager's own cluster, and from the cluster whose manager only
# decides its own (TAMPERE).
DEMO_MANAGER_PENDING = 3
NON_ORGANIZER_PENDING = 2
UPCOMING_WEBINAR_ATTENDEES = 8

# The past webinar whose recording is online, and how many of its registrants opened
# their join link (the rest never came: the attendance report shows both).
RECORDED_WEBINAR = "webinar-outbound-mission-usa-boston-new-york-2019"
WEBINAR_TURNOUT = 0.75


class Applicant(NamedTuple):
    email: str
    decider: str  # who decides for them: their home cluster's manager, else an organizer


class Step(NamedTuple):
    status: S
    when: datetime
    by_applicant: bool
    reason: str


class Application(NamedTuple):
    event: str  # slug
    applicant: Applicant
    steps: tuple[Step, ...]


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Plan:
    """Everything the demo holds, computed without touching the database."""

    partners: tuple[PartnerSpec, ...]
    organizations: tuple[OrganizationSpec, ...]
    people: tuple[PersonSpec, ...]
    events: dict[str, EventSpec]
    applications: tuple[Application, ...]


def plan(now: datetime) -> Plan:
    rng = random.Random(SEED)
    smes = _member_smes(rng)
    upcoming = _upcoming_missions(now)
    events = {
        spec.slug: spec
        for spec in (*_with_webinars(PAST_MISSIONS, _past),
                     *_with_webinars(upcoming.values(), lambda spec: _upcoming(spec, now)))
    }
    applicants = [Applicant(person.email, CLUSTER_BY_SLUG[org.home_cluster].manager_email)
                  for org, person in smes]
    applications = [
        *_past_applications(rng, applicants, events, now),
        *_past_applications_of_others(rng, events, now),
        *_upcoming_applications(rng, applicants, upcoming, events, now),
        *_demo_sme_applications(rng, upcoming["singapore"], events, now),
    ]
    # Last, from a generator of their own: the story before them stays as it was.
    applications += _marketplace_applications(
        applicants, events[upcoming[UPCOMING_BARCELONA].slug], applications, now)
    return Plan(
        partners=(*(_cluster_partner(c) for c in MEMBER_CLUSTERS), *OTHER_PARTNERS,
                  *EC2I_CLUSTERS),
        organizations=(_demo_sme_organization(), *(org for org, _ in smes),
                       *_triple_helix_organizations(), *_target_region_organizations(),
                       *AGREEMENT_ORGANIZATIONS, *_stakeholder_organizations()),
        people=(*_staff(), *(person for _, person in smes), *_other_contacts(),
                *_stakeholder_contacts()),
        events=events,
        applications=tuple(applications),
    )


def _cluster_partner(cluster: ClusterRegion) -> PartnerSpec:
    return PartnerSpec(
        cluster.slug, cluster.name, cluster.short_name, PartnerKind.CLUSTER, cluster.country,
        cluster.region, cluster.city,
        f"Member of SmartCityTech: the smart-city cluster of {cluster.region}, bringing "
        f"together companies, research and government around {cluster.city}.",
    )


def _member_smes(rng: random.Random) -> list[tuple[OrganizationSpec, PersonSpec]]:
    """Eleven SMEs per member cluster, each with one contact, from the cluster's own lists."""
    smes = []
    for index, cluster in enumerate(MEMBER_CLUSTERS):
        contacts = cluster.people[:-1]
        for number, (stem, contact) in enumerate(
            zip(cluster.company_stems, contacts, strict=True)
        ):
            # Rotate the sectors per cluster so each sector shows up in every country.
            sector, word, offering = SECTORS[(number + 3 * index) % len(SECTORS)]
            size = rng.choices(SIZES, weights=SIZE_WEIGHTS)[0]
            town = cluster.towns[number % len(cluster.towns)]
            name = f"{stem} {word} {cluster.legal_form}"
            organization = OrganizationSpec(
                name, cluster.country, town, sector, size, Helix.INDUSTRY,
                f"https://www.{_handle(stem, '-')}-{_handle(word, '-')}.{cluster.country.lower()}",
                f"We {offering}. {TEAMS[size]} in {town}. {rng.choice(AMBITIONS)}",
                cluster.slug,
            )
            smes.append((organization, PersonSpec(_email(contact), contact, name)))
    return smes


def _demo_sme_organization() -> OrganizationSpec:
    return OrganizationSpec(
        DEMO_SME_ORGANIZATION, "DK", "Aalborg", "IoT sensing", OrganizationSize.SMALL,
        Helix.INDUSTRY, "https://www.limfjord-sensing.dk",
        "We measure how harbours and waterfronts are used, with sensors that count without "
        "cameras. A team of about thirty in Aalborg. Looking for pilot partners in Singapore.",
        AALBORG.slug,
    )


def _triple_helix_organizations() -> Iterable[OrganizationSpec]:
    for key, name, helix, size, city, sector, profile, *_ in TRIPLE_HELIX:
        cluster = CLUSTER_BY_KEY[key]
        yield OrganizationSpec(name, cluster.country, city, sector, size, helix, "", profile,
                               cluster.slug)


def _target_region_organizations() -> Iterable[OrganizationSpec]:
    for name, country, city, helix, size, sector, profile, *_ in TARGET_REGION_ORGANIZATIONS:
        yield OrganizationSpec(name, country, city, sector, size, helix, "", profile, None)


def _staff() -> Iterable[PersonSpec]:
    """The demo accounts, then a manager for every other member cluster (no login)."""
    for account in DEMO_ACCOUNTS:
        organization = DEMO_SME_ORGANIZATION if account is DEMO_SME else None
        yield PersonSpec(account.email, account.name, organization, DEMO_PASSWORD,
                         account.grant, account.partner)
    demo_emails = {account.email for account in DEMO_ACCOUNTS}
    for cluster in MEMBER_CLUSTERS:
        if cluster.manager_email not in demo_emails:
            yield PersonSpec(cluster.manager_email, cluster.manager_name, None, None,
                             Role.PARTNER_MANAGER, cluster.slug)


def _other_contacts() -> Iterable[PersonSpec]:
    for _, name, *_, contact, _ in TRIPLE_HELIX:
        yield PersonSpec(_email(contact), contact, name)
    for name, *_, contact, _ in TARGET_REGION_ORGANIZATIONS:
        yield PersonSpec(_email(contact), contact, name)


# --------------------------------------------------------------------------- event dates


# A few upcoming events speak French and Greek too, so that a visitor who reads either
# sees them in it (and the others in English, marked as such). By the slug without its
# year; {year} is the slug's.
TRANSLATIONS: dict[str, dict[str, dict[str, str]]] = {
    "outbound-mission-singapore": {
        "fr": {
            "title": "Mission à Singapour {year}",
            "summary": "Semaine des solutions urbaines avec IPI Singapore : une journée de "
                       "conférence, des rendez-vous B2B et des visites de sites.",
            "description": "SmartCityTech retourne à Singapour avec IPI Singapore, sa tête "
                           "de pont. La délégation participe à une journée de conférence "
                           "sur les solutions urbaines en Asie du Sud-Est, rencontre des "
                           "entreprises et des agences de Singapour lors de rendez-vous B2B "
                           "préparés, visite des projets pilotes et forme des consortiums "
                           "pour des projets d'innovation internationaux.\n\nPostulez "
                           "auprès de votre cluster : il examine les candidatures de ses "
                           "propres entreprises.",
        },
        "el": {
            "title": "Αποστολή στη Σιγκαπούρη {year}",
            "summary": "Εβδομάδα αστικών λύσεων με το IPI Singapore: μια ημέρα συνεδρίου, "
                       "συναντήσεις B2B και επισκέψεις πεδίου.",
            "description": "Το SmartCityTech επιστρέφει στη Σιγκαπούρη με τον οργανισμό "
                           "υποδοχής του, το IPI Singapore. Η αποστολή συμμετέχει σε μια "
                           "ημέρα συνεδρίου για τις αστικές λύσεις στη Νοτιοανατολική Ασία, "
                           "συναντά εταιρείες και φορείς της Σιγκαπούρης σε "
                           "προετοιμασμένες συναντήσεις B2B, επισκέπτεται πιλοτικά έργα και "
                           "σχηματίζει κοινοπραξίες για διεθνή έργα καινοτομίας.\n\nΚάντε "
                           "αίτηση μέσω του cluster σας: εξετάζει τις αιτήσεις των δικών "
                           "του εταιρειών.",
        },
    },
    "webinar-outbound-mission-singapore": {
        "fr": {"title": "Webinaire : faire des affaires à Singapour, la mission {year}",
               "summary": "Une heure en ligne : le marché, le programme, et comment "
                          "postuler."},
        "el": {"title": "Διαδικτυακό σεμινάριο: επιχειρώντας στη Σιγκαπούρη, η αποστολή "
                        "του {year}",
               "summary": "Μία ώρα διαδικτυακά: η αγορά, το πρόγραμμα και πώς να κάνετε "
                          "αίτηση."},
    },
    "inbound-mission-smart-city-expo-barcelona": {
        "fr": {"title": "Mission entrante au Smart City Expo World Congress {year}",
               "summary": "Rencontrez des acteurs de Singapour et des États-Unis au Smart "
                          "City Expo World Congress."},
    },
}
# The agenda items of the translated events, by their English title.
SESSION_TRANSLATIONS: dict[str, dict[str, str]] = {
    "Delegation briefing at IPI Singapore": {
        "fr": "Briefing de la délégation chez IPI Singapore",
        "el": "Ενημέρωση της αποστολής στο IPI Singapore"},
    "Welcome dinner with the beachhead": {
        "fr": "Dîner de bienvenue avec la tête de pont",
        "el": "Δείπνο υποδοχής με τον οργανισμό υποδοχής"},
    "Conference day: urban solutions in Southeast Asia": {
        "fr": "Journée de conférence : solutions urbaines en Asie du Sud-Est",
        "el": "Ημέρα συνεδρίου: αστικές λύσεις στη Νοτιοανατολική Ασία"},
    "B2B matchmaking with Singapore companies": {
        "fr": "Rendez-vous B2B avec des entreprises de Singapour",
        "el": "Συναντήσεις B2B με εταιρείες της Σιγκαπούρης"},
    "Visit to a digital-twin and urban-planning lab": {
        "fr": "Visite d'un laboratoire de jumeau numérique et d'urbanisme",
        "el": "Επίσκεψη σε εργαστήριο ψηφιακού διδύμου και πολεοδομίας"},
    "Site visit: a smart estate and district cooling": {
        "fr": "Visite de site : un quartier intelligent et son réseau de froid",
        "el": "Επίσκεψη πεδίου: έξυπνη γειτονιά και τηλεψύξη"},
    "Consortium building for international innovation projects": {
        "fr": "Constitution de consortiums pour des projets d'innovation internationaux",
        "el": "Σχηματισμός κοινοπραξιών για διεθνή έργα καινοτομίας"},
    "Live webinar with questions": {
        "fr": "Webinaire en direct, avec vos questions",
        "el": "Ζωντανό σεμινάριο με ερωτήσεις"},
}


def _translations(spec: EventSpec) -> dict[str, dict[str, str]]:
    """The event's texts in the other offered languages (an upcoming one's only)."""
    stem, _, year = spec.slug.rpartition("-")
    if spec.status != EventStatus.PUBLISHED or stem not in TRANSLATIONS:
        return {}
    return {code: {name: text.format(year=year) for name, text in texts.items()}
            for code, texts in TRANSLATIONS[stem].items() if code in languages.offered()}


def _session_translations(spec: EventSpec, item: AgendaItem) -> dict[str, dict[str, str]]:
    given = _translations(spec)
    return {code: {"title": title}
            for code, title in SESSION_TRANSLATIONS.get(item.title, {}).items()
            if code in given}


def _with_webinars(
    missions: Iterable[EventSpec], schedule: Callable[[EventSpec], EventSpec]
) -> list[EventSpec]:
    events = []
    for mission in missions:
        events.append(schedule(mission))
        if mission.webinar:
            events.append(schedule(_promotional_webinar(mission)))
    return events


def _webinar_slug(mission: EventSpec) -> str:
    return f"webinar-{mission.slug}"


def _promotional_webinar(mission: EventSpec) -> EventSpec:
    return EventSpec(
        _webinar_slug(mission), EventKind.WEBINAR, mission.webinar,
        "One hour online: the target market, the programme, and how to apply.",
        f"An online hour to prepare the {mission.title}: what the region offers, the "
        "programme, what it costs and how the clusters choose their delegates. Speakers "
        "from the organizing clusters and the beachheads answer your questions.",
        mission.country, mission.city, "Online", WEBINAR_ZONE,
        mission.first_day - WEBINAR_LEAD, hours=("10:00", "11:00"), capacity=100,
        requires_approval=False,
        organizers=tuple(slug for slug in mission.organizers if slug in CLUSTER_BY_SLUG),
        hosts=mission.hosts,
        agenda=(AgendaItem(0, SessionKind.WEBINAR, "Live webinar with questions",
                           ("10:00", "11:00"), "Online"),),
        status=mission.status,
    )


def _past(spec: EventSpec) -> EventSpec:
    call = WEBINAR_CALL if spec.kind == EventKind.WEBINAR else MISSION_CALL
    return replace(
        spec, status=EventStatus.CLOSED, registration_opens=spec.first_day - call,
        registration_closes=_registration_deadline(spec),
        recording_url=_recording_url(spec) if spec.slug == RECORDED_WEBINAR else "",
    )


def _upcoming(spec: EventSpec, now: datetime) -> EventSpec:
    if spec.status == EventStatus.DRAFT:
        return spec
    return replace(
        spec, registration_opens=_today(now, spec.timezone) - timedelta(weeks=2),
        registration_closes=_registration_deadline(spec),
    )


def _registration_deadline(spec: EventSpec) -> date | None:
    # Webinars take registrations until they end.
    return None if spec.kind == EventKind.WEBINAR else spec.first_day - MISSION_DEADLINE


def _today(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=-day.weekday() % 7)


def _next_expo_day(earliest: date) -> date:
    """The Smart City Expo World Congress opens in November, here on its second Tuesday."""
    this_year = _second_tuesday_of_november(earliest.year)
    return this_year if this_year >= earliest else _second_tuesday_of_november(earliest.year + 1)


def _second_tuesday_of_november(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def _local(day: date, clock: str, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=zone).astimezone(UTC)


# --------------------------------------------------------------------------- who applied


def _past_applications(
    rng: random.Random, smes: list[Applicant], events: dict[str, EventSpec], now: datetime
) -> list[Application]:
    """The member SMEs' applications to the past missions and their webinars."""
    pool = list(smes)
    rng.shuffle(pool)
    pool = pool[NEVER_DELEGATED:]
    delegations: dict[str, list[Applicant]] = {}
    applications = []
    for mission in PAST_MISSIONS:
        delegation = PAST_DELEGATIONS[mission.slug]
        delegates, pool = pool[: delegation.newcomers], pool[delegation.newcomers:]
        for earlier, count in delegation.returning:
            candidates = [a for a in delegations[earlier] if a not in delegates]
            delegates += rng.sample(candidates, count)
        delegations[mission.slug] = delegates
        others = rng.sample([a for a in smes if a not in delegates], len(delegation.unsuccessful))
        outcomes = [*(_delegate_outcome(rng) for _ in delegates), *delegation.unsuccessful]
        spec = events[mission.slug]
        for applicant, outcome in zip([*delegates, *others], outcomes, strict=True):
            applications.append(_application(rng, spec, applicant, outcome, now))
        webinar = events[_webinar_slug(mission)]
        applications += _webinar_attendance(rng, webinar, [*delegates, *others], smes, now)
    return applications


def _delegate_outcome(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.08:
        return "approved_after_waitlist"
    if draw < 0.13:
        return "approved_after_reapplying"
    return "approved"


def _webinar_attendance(
    rng: random.Random,
    webinar: EventSpec,
    applicants: list[Applicant],
    smes: list[Applicant],
    now: datetime,
) -> list[Application]:
    """Most of a mission's applicants joined its webinar first, with a few curious others."""
    attendees = rng.sample(applicants, round(WEBINAR_SHARE * len(applicants)))
    attendees += rng.sample([a for a in smes if a not in applicants], WEBINAR_NEWCOMERS)
    outcomes = ["left", "rejoined"] + ["joined"] * (len(attendees) - 2)
    return [_application(rng, webinar, applicant, outcome, now)
            for applicant, outcome in zip(attendees, outcomes, strict=True)]


def _past_applications_of_others(
    rng: random.Random, events: dict[str, EventSpec], now: datetime
) -> list[Application]:
    """Cluster managers on the fact-finding missions, the triple helix, the target regions."""
    travellers: list[tuple[str, Applicant]] = []
    for slug, delegation in PAST_DELEGATIONS.items():
        # Staff have no organization, so the organizers decide: the coordinator did.
        travellers += [(slug, Applicant(CLUSTER_BY_KEY[key].manager_email, ADMIN.email))
                       for key in delegation.staff]
    for key, *_, contact, joined in TRIPLE_HELIX:
        decider = CLUSTER_BY_KEY[key].manager_email
        travellers += [(slug, Applicant(_email(contact), decider)) for slug in joined]
    for *_, contact, joined in TARGET_REGION_ORGANIZATIONS:
        travellers += [(slug, Applicant(_email(contact), _organizer_manager(events[slug])))
                       for slug in joined]
    return [_application(rng, events[slug], applicant, "approved", now)
            for slug, applicant in travellers]


def _organizer_manager(mission: EventSpec) -> str:
    """Who decides for applicants without a home cluster: the first member organizer."""
    return next(CLUSTER_BY_SLUG[slug].manager_email
                for slug in mission.organizers if slug in CLUSTER_BY_SLUG)


def _upcoming_applications(
    rng: random.Random,
    smes: list[Applicant],
    upcoming: dict[str, EventSpec],
    events: dict[str, EventSpec],
    now: datetime,
) -> list[Application]:
    applications = []
    for key, outcomes in UPCOMING_OUTCOMES.items():
        mission = events[upcoming[key].slug]
        applicants = rng.sample(smes, len(outcomes))
        if key == "singapore":
            for cluster, count in ((AALBORG, DEMO_MANAGER_PENDING),
                                   (TAMPERE, NON_ORGANIZER_PENDING)):
                own_cluster = [a for a in smes
                               if a.decider == cluster.manager_email and a not in applicants]
                pending = rng.sample(own_cluster, count)
                applicants += pending
                outcomes += ("submitted",) * len(pending)
        for applicant, outcome in zip(applicants, outcomes, strict=True):
            applications.append(_application(rng, mission, applicant, outcome, now))
        webinar = events[_webinar_slug(mission)]
        for applicant in rng.sample(smes, UPCOMING_WEBINAR_ATTENDEES):
            applications.append(_application(rng, webinar, applicant, "joined", now))
    return applications


def _demo_sme_applications(
    rng: random.Random, singapore: EventSpec, events: dict[str, EventSpec], now: datetime
) -> list[Application]:
    demo_sme = Applicant(DEMO_SME.email, AALBORG.manager_email)
    story = (*DEMO_SME_PAST, (_webinar_slug(singapore), "joined"), (singapore.slug, "submitted"))
    return [_application(rng, events[slug], demo_sme, outcome, now) for slug, outcome in story]


def _application(
    rng: random.Random, event: EventSpec, applicant: Applicant, outcome: str, now: datetime
) -> Application:
    applied_at = _applied_at(rng, event, now)
    steps = tuple(
        Step(status, applied_at + timedelta(days=days), actor == APPLICANT,
             rng.choice(REASONS[reason]) if reason else "")
        for status, days, actor, reason in OUTCOMES[outcome]
    )
    return Application(event.slug, applicant, steps)


def _applied_at(rng: random.Random, event: EventSpec, now: datetime) -> datetime:
    """In office hours (07:00-15:00 UTC: morning to afternoon in Europe). Past events: early
    in their registration window, so every step lands before the event. Upcoming ones: in
    the two weeks registration has been open, early enough for a decision five days later
    to be in the past too."""
    if event.status == EventStatus.CLOSED:
        assert event.registration_opens is not None
        within = 20 if event.kind == EventKind.WEBINAR else 30
        day = event.registration_opens + timedelta(days=rng.randint(1, within))
    else:
        day = _today(now, event.timezone) - timedelta(days=rng.randint(6, 13))
    return datetime.combine(day, time(7), tzinfo=UTC) + timedelta(minutes=5 * rng.randint(0, 96))


# --------------------------------------------------------------------------- names


# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSABLE = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ł": "l", "Ł": "L"})


def _handle(text: str, separator: str) -> str:
    """Lower-case ASCII for emails and web addresses: "Śnieżka" -> "sniezka"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE))
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", separator, ascii_text).strip(separator)


def _email(full_name: str) -> str:
    given, family = full_name.split(" ", 1)
    return f"{_handle(given, '')}.{_handle(family, '')}@{DEMO_DOMAIN}"


# --------------------------------------------------------------------------- loading


COUNTED = {
    "partners": Partner,
    "organizations": Organization,
    "users": User,
    "events": Event,
    "registrations": Registration,
}


@dataclass(frozen=True)
class DemoSummary:
    partners: int
    organizations: int
    users: int
    events: int
    registrations: int
    added: int  # how many of those this run created

    def describe(self) -> str:
        counts = ", ".join(f"{getattr(self, label)} {label}" for label in COUNTED)
        news = (f"This run added {self.added} of them." if self.added
                else "Everything was already there; nothing changed.")
        return "\n".join([f"SmartCityTech demo data: {counts}.", news, "", describe_logins()])


def describe_logins() -> str:
    """The demo accounts as a table, for the command line: each role, its email, and
    what it does, so a newcomer sees who decides which applications."""
    width = max(len(a.role) for a in DEMO_ACCOUNTS)
    table = []
    for account in DEMO_ACCOUNTS:
        table += [f"  {account.role:<{width}}  {account.email}", f"      {account.can}"]
    # The app's own address, which follows where `make run` serves it (HOST, PORT).
    signin = (f"Sign in at {current_app.config['BASE_URL']} with one account per role, "
              f"password {DEMO_PASSWORD}:")
    return "\n".join([signin, *table])


def load(now: datetime | None = None) -> DemoSummary:
    """Create whatever part of the demo data is missing, flushed in the caller's unit of
    work (`flask demo` commits it once)."""
    now = now or utcnow()
    # One write step for the whole load (SQLite: its lock first), which the services'
    # own write steps then join.
    write_step()
    before = _counts()
    content = plan(now)
    partners = _ensure_partners(content.partners)
    organizations = _ensure_organizations(content.organizations, partners)
    users = _ensure_people(content.people, organizations, partners)
    events = _ensure_events(content.events.values(), partners, users[ADMIN.email])
    # Registrations are keyed by ids, and record their responsible partner by id.
    db.session.flush()
    _ensure_applications(content.applications, users, events)
    db.session.flush()
    _ensure_webinar_attendance(events[RECORDED_WEBINAR])
    _ensure_mission_attendance(events.values(), users[ADMIN.email], now)
    db.session.flush()
    _ensure_agreements(partners, organizations, events)
    db.session.flush()
    _ensure_survey_answers(events.values(), now)
    db.session.flush()
    _ensure_matchmaking(content, users, events, now)
    db.session.flush()
    after = _counts()
    return DemoSummary(**after, added=sum(after.values()) - sum(before.values()))


def _counts() -> dict[str, int]:
    return {label: db.session.scalar(select(func.count()).select_from(model))
            for label, model in COUNTED.items()}


K = TypeVar("K")
T = TypeVar("T")


@contextmanager
def _as_of(at: datetime) -> Iterator[None]:
    """History recorded, not lived: the audit entries the services write inside are dated
    `at`, when it happened, not when the demo was loaded (so two loads of one day agree)."""
    session = db.session()

    def dated(_session, entry) -> None:
        if isinstance(entry, AuditEntry):
            entry.created_at = at

    sa_event.listen(session, "transient_to_pending", dated)
    try:
        yield
    finally:
        sa_event.remove(session, "transient_to_pending", dated)


def _ensure(existing: dict[K, T], key: K, create: Callable[[], T]) -> T:
    """The object stored under its natural key, or a new one `create` makes through its
    service."""
    if key not in existing:
        existing[key] = create()
    return existing[key]


def _ensure_partners(specs: Iterable[PartnerSpec]) -> dict[str, Partner]:
    partners = {p.slug: p for p in db.session.scalars(select(Partner))}
    for spec in specs:
        _ensure(partners, spec.slug, lambda spec=spec: _create_partner(spec))
    return partners


def _create_partner(spec: PartnerSpec) -> Partner:
    with _as_of(LAUNCHED_AT):
        return partner_records.create(None, PartnerIn.from_values(
            is_member=spec.slug in CLUSTER_BY_SLUG, **spec._asdict()))


def _ensure_organizations(
    specs: Iterable[OrganizationSpec], partners: dict[str, Partner]
) -> dict[str, Organization]:
    # Names are not unique in the schema; the first organization of a name is the demo's.
    organizations: dict[str, Organization] = {}
    for organization in db.session.scalars(select(Organization).order_by(Organization.id)):
        organizations.setdefault(organization.name, organization)
    for spec in specs:
        _ensure(organizations, spec.name,
                lambda spec=spec: _build_organization(spec, partners))
    return organizations


def _build_organization(spec: OrganizationSpec, partners: dict[str, Partner]) -> Organization:
    values = spec._asdict()
    home_cluster = values.pop("home_cluster")
    # A profile as a member writes it, validated as theirs is.
    profile = OrganizationIn.from_values(**values)
    with _as_of(LAUNCHED_AT):
        organization = organization_records.create(
            None, **profile.profile_values(),
            home_cluster=partners[home_cluster] if home_cluster else None)
    # Known to its cluster since the project started: nothing waits for review.
    organization.created_at = organization.reviewed_at = LAUNCHED_AT
    return organization


def _ensure_people(
    specs: Iterable[PersonSpec],
    organizations: dict[str, Organization],
    partners: dict[str, Partner],
) -> dict[str, User]:
    users = {u.email: u for u in db.session.scalars(select(User))}
    for spec in specs:
        if spec.email not in users:
            users[spec.email] = _create_person(spec, organizations, partners)
    return users


def _create_person(
    spec: PersonSpec, organizations: dict[str, Organization], partners: dict[str, Partner]
) -> User:
    organization = organizations[spec.organization] if spec.organization else None
    user = accounts.create_user(spec.email, spec.name, spec.password, organization=organization)
    user.created_at = user.email_verified_at = LAUNCHED_AT
    if spec.grant:
        granted = accounts.grant(user, spec.grant, partners[spec.partner] if spec.partner else None)
        granted.created_at = LAUNCHED_AT
    return user


def _ensure_events(specs: Iterable[EventSpec], partners: dict[str, Partner],
                   coordinator: User) -> dict[str, Event]:
    events = {e.slug: e for e in db.session.scalars(select(Event))}
    for spec in specs:
        _ensure(events, spec.slug, lambda spec=spec: _create_event(spec, partners, coordinator))
    return events


def _create_event(spec: EventSpec, partners: dict[str, Partner], coordinator: User) -> Event:
    """The event as the coordinator made it through the event form when it was announced:
    a draft (a mission with the questions every mission asks, past ones too), its agenda,
    then published and, once over, closed."""
    zone = spec.zone
    opens_at = _midnight(spec.registration_opens, zone)
    announced_at = _midnight(spec.announced, zone) or opens_at
    with _as_of(announced_at):
        event = events.create(coordinator, EventIn.from_values(
            kind=spec.kind, title=spec.title, slug=spec.slug, summary=spec.summary,
            description=spec.description, target_country=spec.country,
            target_city=spec.city, venue=spec.venue, timezone=spec.timezone,
            online_url=_meeting_url(spec) if spec.kind == EventKind.WEBINAR else "",
            recording_url=spec.recording_url,
            starts_local=_wall_clock(spec.first_day, spec.hours[0]),
            ends_local=_wall_clock(spec.last_day, spec.hours[1]),
            registration_opens_local=_wall_clock(spec.registration_opens, "00:00"),
            registration_closes_local=_wall_clock(spec.registration_closes, "00:00"),
            capacity=spec.capacity, requires_approval=spec.requires_approval,
            organizer_ids=[partners[slug].id for slug in spec.organizers],
            host_ids=[partners[slug].id for slug in spec.hosts],
            texts=_translations(spec),
        ))
        for item in spec.agenda:
            events.add_session(coordinator, event, _session(spec, item))
        if spec.status != EventStatus.DRAFT:
            events.publish(coordinator, event.id)
    if spec.status == EventStatus.CLOSED:
        with _as_of(event.ends_at):
            events.close(coordinator, event.id)
    event.created_at = event.updated_at = announced_at
    if spec.recording_url:
        # Its registrants heard of the recording back then: editing it mails nobody now.
        event.recording_mailed_at = (_local(spec.last_day, spec.hours[1], zone)
                                     + timedelta(days=1))
    return event


def _meeting_url(spec: EventSpec) -> str:
    """A demo meeting room per webinar: an address on the demo domain, clearly not a real
    meeting."""
    return f"https://meet.{DEMO_DOMAIN}/{spec.slug}"


def _recording_url(spec: EventSpec) -> str:
    return f"https://video.{DEMO_DOMAIN}/recordings/{spec.slug}"


def _midnight(day: date | None, zone: ZoneInfo) -> datetime | None:
    return _local(day, "00:00", zone) if day else None


def _wall_clock(day: date | None, clock: str) -> datetime | None:
    """The wall-clock time a form takes (naive, in the event's zone)."""
    return datetime.combine(day, time.fromisoformat(clock)) if day else None


def _session(spec: EventSpec, item: AgendaItem) -> SessionIn:
    day = spec.first_day + timedelta(days=item.day)
    common = {"kind": item.kind, "title": item.title, "venue": item.venue,
              "texts": _session_translations(spec, item)}
    if item.hours is None:
        return SessionIn.from_values(all_day=True, start_date=day,
                                     end_date=day + timedelta(days=item.days - 1), **common)
    start, end = item.hours
    return SessionIn.from_values(starts_local=_wall_clock(day, start),
                                 ends_local=_wall_clock(day, end), **common)


def _ensure_applications(
    applications: Iterable[Application], users: dict[str, User], events: dict[str, Event]
) -> None:
    recorded = {tuple(row) for row in db.session.execute(
        select(Registration.event_id, Registration.user_id)
    )}
    for application in applications:
        event = events[application.event]
        user = users[application.applicant.email]
        if (event.id, user.id) in recorded:
            continue
        decider = users[application.applicant.decider]
        steps = [(step.status, step.when, user if step.by_applicant else decider, step.reason)
                 for step in application.steps]
        organization = user.organization
        registrations.record_history(
            user, event, steps,
            responsible_partner_id=organization.home_cluster_id if organization else None,
        )


def _ensure_webinar_attendance(webinar: Event) -> None:
    """Most of the recorded webinar's approved registrants opened their join link in the
    first minutes (from ten minutes before the start): one attendance each, recorded the
    way a join link records it. The same registrants on every load, in email order."""
    approved = db.session.scalars(
        select(Registration).join(Registration.user)
        .where(Registration.event_id == webinar.id, Registration.status == S.APPROVED)
        .order_by(User.email)
    ).all()
    attended = set(db.session.scalars(select(Attendance.registration_id).where(
        Attendance.registration_id.in_([r.id for r in approved]),
        Attendance.session_id.is_(None))))
    for number, registration in enumerate(approved[:round(WEBINAR_TURNOUT * len(approved))]):
        if registration.id in attended:
            continue
        attendance.record(registration, None,
                          at=webinar.starts_at + timedelta(minutes=number % 20 - 10),
                          source=AttendanceSource.JOIN_LINK)


# The programme's missions whose delegates answered the follow-up surveys.
SURVEYED_YEARS = (2018, 2019)
# Satisfaction 1-5 as the delegates gave it: mostly good, a few disappointed.
SATISFACTION_WEIGHTS = {5: 40, 4: 38, 3: 15, 2: 5, 1: 2}
ANSWER_RATE = {SurveyRound.FIRST: 0.75, SurveyRound.SIX_MONTHS: 0.55}


def _ensure_survey_answers(events: Iterable[Event], now: datetime) -> None:
    """Both survey rounds of the 2018-2019 missions, for the delegates who attended (an
    attendance row: the demo's registrations and attendance are left as they are), as
    `flask tick` would have sent them; most answered, some after the reminder. Each
    delegate's answers come from a generator seeded with the mission and their email,
    so every load gives the same rows."""
    missions = sorted((e for e in events if e.kind in MISSION_KINDS
                       and e.ends_at.year in SURVEYED_YEARS), key=lambda e: e.slug)
    handled = {tuple(row) for row in db.session.execute(
        select(SurveyInvitation.registration_id, SurveyInvitation.round))}
    for mission in missions:
        for registration in db.session.scalars(surveys.surveyed_delegates(mission.id)):
            for round_, offset in surveys.OFFSETS.items():
                due_at = mission.ends_at + offset
                if (registration.id, round_) in handled or due_at > now:
                    continue
                rng = random.Random(f"{mission.slug}/{registration.user.email}/{round_}")
                _add_survey_answer(registration, round_, due_at, rng)


def _add_survey_answer(registration: Registration, round_: SurveyRound, sent_at: datetime,
                       rng: random.Random) -> None:
    answered = rng.random() < ANSWER_RATE[round_]
    late = rng.random() < 0.3
    invitation = surveys.record_sent(registration.id, round_, sent_at, at=sent_at,
                                     reminded=not answered or late)
    if not answered:
        return
    answered_at = sent_at + timedelta(
        days=rng.randint(8, 12) if late else rng.randint(0, 5), hours=rng.randint(1, 10))
    later = round_ == SurveyRound.SIX_MONTHS
    signed = int(later and rng.random() < 0.12)
    answers = SurveyAnswerIn.from_values(
        satisfaction=rng.choices(list(SATISFACTION_WEIGHTS),
                                 weights=list(SATISFACTION_WEIGHTS.values()))[0],
        b2b_meetings=rng.randint(2, 9) if not later else 0,
        leads=rng.randint(0, 5) if not later else rng.randint(0, 2),
        agreements_in_negotiation=int(rng.random() < (0.25 if later else 0.15)),
        agreements_signed=signed,
        agreement_parties=("A partner met on the mission" if signed else ""),
        outcome=(rng.choice(_OUTCOMES) if later else ""),
        comment=rng.choice(_COMMENTS[round_]))
    # Answered through the invitation's own link, on the day the delegate answered.
    with _as_of(answered_at):
        surveys.answer(surveys.link_token(invitation), answers, now=answered_at)


_OUTCOMES = (
    "Follow-up calls with two of the companies we met; one pilot is being discussed.",
    "Nothing concrete yet, but the contacts were useful for our market study.",
    "We are preparing a joint proposal with a research partner from the visit.",
    "A distributor asked for a quote; negotiations are ongoing.",
)
_COMMENTS = {
    SurveyRound.FIRST: ("", "", "Well organized; the B2B meetings were well prepared.",
                        "More time for company visits next time, please.",
                        "The beachhead's introductions opened doors for us."),
    SurveyRound.SIX_MONTHS: ("", "", "Happy to join the next mission."),
}


def _ensure_mission_attendance(events: Iterable[Event], checker: User, now: datetime) -> None:
    """Every approved delegate of a past mission came: checked in at the door for the
    whole event, minutes after the start, by the coordinator. In id order, every load."""
    past = [e for e in events if e.kind in MISSION_KINDS and e.ends_at < now]
    approved = db.session.scalars(
        select(Registration).where(Registration.event_id.in_([e.id for e in past]),
                                   Registration.status == S.APPROVED)
        .order_by(Registration.id)
    ).all()
    attended = set(db.session.scalars(select(Attendance.registration_id).where(
        Attendance.registration_id.in_([r.id for r in approved]),
        Attendance.session_id.is_(None))))
    starts = {e.id: e.starts_at for e in past}
    for number, registration in enumerate(approved):
        if registration.id in attended:
            continue
        # Recorded as the door records a badge, at the instant it happened: checking in
        # itself only admits a badge while its event is on.
        attendance.record(registration, None,
                          at=starts[registration.event_id] + timedelta(minutes=number % 30),
                          source=AttendanceSource.CHECK_IN, by=checker)


class AgreementSpec(NamedTuple):
    title: str
    kind: AgreementKind
    type: AgreementType
    status: AgreementStatus
    started_on: date
    signed_on: date | None
    origin: str | None  # event slug
    responsible: str  # partner slug
    # Parties: "partner:<slug>", "organization:<name>", or "delegate:<mission slug>:<n>",
    # the n-th SME (by name) of that mission's delegation.
    parties: tuple[str, ...]
    description: str


SG_2018 = "outbound-mission-singapore-smart-city-summit-2018"
US_FACT_2018 = "fact-finding-mission-boston-new-york-2018"
BCN_2018 = "inbound-mission-smart-city-expo-barcelona-2018"
SG_2019 = "outbound-mission-singapore-innovfest-unbound-2019"
US_2019 = "outbound-mission-usa-boston-new-york-2019"
BCN_2019 = "inbound-mission-smart-city-expo-barcelona-2019"
P, C = AgreementKind.PARTNERSHIP, AgreementKind.COLLABORATION
T = AgreementType
SIGNED, NEGOTIATING = AgreementStatus.SIGNED, AgreementStatus.IN_NEGOTIATION

# The report's 4 partnership and 8 collaboration agreements (2018-2019), and two still in
# negotiation, which the KPIs do not count.
AGREEMENTS = (
    AgreementSpec("Smart City Nord and IPI Singapore: beachhead in Singapore", P, T.MEMORANDUM,
                  SIGNED, date(2018, 3, 15), date(2018, 7, 10), SG_2018, "smart-city-nord",
                  ("partner:smart-city-nord", "partner:ipi-singapore"),
                  "IPI Singapore acts as SmartCityTech's beachhead in Singapore."),
    AgreementSpec("SU Flanders and NECEC: beachhead in Boston", P, T.MEMORANDUM, SIGNED,
                  date(2018, 10, 16), date(2019, 2, 4), US_FACT_2018, "smart-urbanism-flanders",
                  ("partner:smart-urbanism-flanders", "partner:necec"),
                  "NECEC opens New England's network to SmartCityTech's delegations."),
    AgreementSpec("Ciutat Digital and EC2I: joint activities towards the USA", P,
                  T.BUSINESS_PARTNERSHIP, SIGNED, date(2018, 9, 3), date(2018, 11, 14),
                  BCN_2018, "ciutat-digital-catalunya",
                  ("partner:ciutat-digital-catalunya", "partner:ec2i"),
                  "SmartCityTech and EC2I organize their missions to the USA together."),
    AgreementSpec("Ville Durable AURA and Bridge Innovation Partners: beachhead in New York",
                  P, T.MEMORANDUM, SIGNED, date(2019, 5, 6), date(2019, 10, 24), US_2019,
                  "ville-durable-aura",
                  ("partner:ville-durable-aura", "partner:bridge-innovation-partners"),
                  "Bridge Innovation Partners organizes SmartCityTech's meetings in New York."),
    AgreementSpec("Urban Living Brabant and Mobilität Stuttgart: shared mobility pilots", P,
                  T.JOINT_PROJECT_PROPOSAL, NEGOTIATING, date(2019, 6, 20), None, SG_2019,
                  "urban-living-brabant",
                  ("partner:urban-living-brabant", "partner:mobilitaet-stuttgart"),
                  "A joint proposal for shared mobility pilots, in preparation."),
    AgreementSpec("Aalborg and Pune: first collaboration with India", C, T.MEMORANDUM, SIGNED,
                  date(2019, 9, 2), date(2019, 12, 5), None, "smart-city-nord",
                  (f"organization:{CITY_OF_AALBORG}", f"organization:{INDIA_PARTNER}"),
                  "The city of Aalborg's first collaboration opportunity in India."),
    AgreementSpec("Estate analytics pilot in Singapore", C, T.BUSINESS_PARTNERSHIP, SIGNED,
                  date(2018, 7, 12), date(2018, 9, 18), SG_2018, "", (
                      f"delegate:{SG_2018}:0", "organization:Tanjong Urban Analytics Pte. Ltd."),
                  "A pilot of urban analytics on Singapore housing estates."),
    AgreementSpec("Liveable districts research in Singapore", C, T.RESEARCH_COLLABORATION,
                  SIGNED, date(2018, 7, 12), date(2018, 10, 22), SG_2018, "", (
                      f"delegate:{SG_2018}:1",
                      "organization:Straits Institute for Liveable Systems"),
                  "Joint research on sensing in dense districts."),
    AgreementSpec("Grid flexibility services for Boston", C, T.BUSINESS_PARTNERSHIP, SIGNED,
                  date(2018, 11, 14), date(2019, 1, 29), BCN_2018, "", (
                      f"delegate:{BCN_2018}:0", "organization:Back Bay Grid Analytics Inc."),
                  "Flexibility services for urban grids, sold together in New England."),
    AgreementSpec("Delivery zones for New York", C, T.JOINT_PROJECT_PROPOSAL, SIGNED,
                  date(2018, 11, 14), date(2019, 2, 26), BCN_2018, "", (
                      f"delegate:{BCN_2018}:1", "organization:Hudson Street Mobility LLC"),
                  "A joint proposal for bookable delivery zones in New York."),
    AgreementSpec("Waterfront sensing in Singapore", C, T.BUSINESS_PARTNERSHIP, SIGNED,
                  date(2019, 6, 26), date(2019, 8, 30), SG_2019, "", (
                      f"delegate:{SG_2019}:0", "organization:Tanjong Urban Analytics Pte. Ltd."),
                  "Sensors for Singapore's waterfronts, distributed locally."),
    AgreementSpec("Heat resilience research for Boston", C, T.RESEARCH_COLLABORATION, SIGNED,
                  date(2019, 10, 24), date(2019, 11, 28), US_2019, "", (
                      f"delegate:{US_2019}:0", "organization:Charles River Climate Lab"),
                  "Research on heat and flooding in coastal neighbourhoods."),
    AgreementSpec("Participation tools for New York", C, T.BUSINESS_PARTNERSHIP, SIGNED,
                  date(2019, 10, 24), date(2019, 12, 12), US_2019, "", (
                      f"delegate:{US_2019}:1", "organization:Gowanus Civic Technology Inc."),
                  "Participation tools for New York's community boards."),
    AgreementSpec("Energy forecasting with Boston", C, T.BUSINESS_PARTNERSHIP, NEGOTIATING,
                  date(2019, 11, 20), None, BCN_2019, "", (
                      f"delegate:{BCN_2019}:0", "organization:Back Bay Grid Analytics Inc."),
                  "Combined forecasting services, under negotiation."),
)


def _mission_smes(event: Event) -> list[Organization]:
    """The member SMEs of a mission's approved delegation, by name."""
    return db.session.scalars(
        select(Organization).distinct()
        .join(User, User.organization_id == Organization.id)
        .join(Registration, Registration.user_id == User.id)
        .join(Partner, Partner.id == Organization.home_cluster_id)
        .where(Registration.event_id == event.id, Registration.status == S.APPROVED,
               Partner.is_member, Organization.helix == Helix.INDUSTRY,
               Organization.size != OrganizationSize.LARGE)
        .order_by(Organization.name)
    ).all()


def _ensure_agreements(partners: dict[str, Partner], organizations: dict[str, Organization],
                       events: dict[str, Event]) -> None:
    existing = set(db.session.scalars(select(Agreement.title)))
    for spec in AGREEMENTS:
        if spec.title in existing:
            continue
        parties: list[Partner | Organization] = []
        for party in spec.parties:
            kind, _, key = party.partition(":")
            if kind == "partner":
                parties.append(partners[key])
            elif kind == "organization":
                parties.append(organizations[key])
            else:
                slug, _, number = key.rpartition(":")
                parties.append(_mission_smes(events[slug])[int(number)])
        first = parties[0]
        responsible = (partners[spec.responsible] if spec.responsible
                       else first.home_cluster)
        created_at = datetime.combine(spec.started_on, time(9), tzinfo=UTC)
        with _as_of(created_at):
            agreement = agreements.create(None, AgreementIn.from_values(
                kind=spec.kind, type=spec.type, status=spec.status, title=spec.title,
                description=spec.description, started_on=spec.started_on,
                signed_on=spec.signed_on,
                origin_event_id=events[spec.origin].id if spec.origin else None,
                responsible_partner_id=responsible.id,
                parties=[f"{'partner' if isinstance(p, Partner) else 'organization'}:{p.id}"
                         for p in parties],
            ))
        # Recorded when talks began, last changed when it was signed.
        agreement.created_at = created_at
        agreement.updated_at = datetime.combine(spec.signed_on or spec.started_on, time(9),
                                                tzinfo=UTC)


# --------------------------------------------------------------------------- matchmaking


# The inbound missions at the Smart City Expo carry matchmaking: the report's two and the
# next one. Whatever the marketplaces hold comes from generators of their own, seeded with
# the event, so the story before them stays as it was.
MARKETPLACE_SEED = f"{SEED}/matchmaking"
UPCOMING_BARCELONA = "barcelona"  # the key of the next expo in _upcoming_missions


class Marketplace(NamedTuple):
    smes: int  # of the approved SME delegates who opted in (the demo SME too, if there)
    requests: dict[M, int]  # how many meeting requests ended in each state


MARKETPLACES = {
    BCN_2018: Marketplace(12, {M.ACCEPTED: 22, M.DECLINED: 9, M.EXPIRED: 7, M.CANCELLED: 7}),
    BCN_2019: Marketplace(10, {M.ACCEPTED: 24, M.DECLINED: 10, M.EXPIRED: 8,
                               M.CANCELLED: 8}),
    UPCOMING_BARCELONA: Marketplace(15, {M.REQUESTED: 18, M.ACCEPTED: 19, M.DECLINED: 7,
                                         M.EXPIRED: 5, M.CANCELLED: 6}),
}
# Approved delegates of the next expo beside the one of its applications: SMEs, and the
# triple helix of the host cluster and of Gent.
MARKETPLACE_DELEGATES = 14
MARKETPLACE_TRIPLE_HELIX = ("barcelona", "gent")

# Stakeholders of the target regions whom the beachheads invite to the next expo, beside
# those who came to the earlier ones: no home cluster, so no KPI counts them.
# (name, country, city, helix, size, sector, profile, contact)
HOST_STAKEHOLDERS = (
    ("Kallang Smart Estates Pte. Ltd.", "SG", "Singapore", Helix.INDUSTRY,
     OrganizationSize.MEDIUM, "Building technology",
     "Manages and retrofits housing estates and business parks in Singapore.", "Ong Mei Xuan"),
    ("Marina Mobility Labs Pte. Ltd.", "SG", "Singapore", Helix.INDUSTRY,
     OrganizationSize.SMALL, "Urban mobility",
     "Mobility-as-a-service pilots for Singapore's new towns.", "Rahul Menon"),
    ("Mystic River Water Analytics Inc.", "US", "Boston", Helix.INDUSTRY,
     OrganizationSize.SMALL, "Water management",
     "Asset planning and leak analytics for New England's water utilities.",
     "Hannah Sullivan"),
    ("Fenway Institute for Urban Air", "US", "Boston", Helix.RESEARCH,
     OrganizationSize.MEDIUM, "Environmental research",
     "Measures and models air quality and heat in Boston's neighbourhoods.",
     "Gregory Park"),
    ("Red Hook Street Lighting Partnership", "US", "New York", Helix.GOVERNMENT,
     OrganizationSize.MEDIUM, "Public lighting",
     "A public-private partnership that modernizes street lighting in Brooklyn.",
     "Carlos Rivera"),
)


class Topic(NamedTuple):
    """What a marketplace talks about: an offer and a request of the field, and the
    technologies behind it."""

    tag: str
    technologies: tuple[str, ...]
    offer: tuple[str, str]  # title, text
    request: tuple[str, str]


TOPICS = (
    Topic("mobility data", ("GTFS", "route optimization", "computer vision"),
          ("Demand-responsive transport for mid-sized cities",
           "Routing software that plans on-demand shuttles around live requests; running in "
           "three European cities, with open interfaces to ticketing."),
          ("Mobility data from a city ready to pilot",
           "We look for a city or transit operator that shares anonymized trip data for a "
           "six-month pilot of demand forecasting.")),
    Topic("energy", ("digital metering", "demand response", "heat pumps"),
          ("Energy management for public buildings",
           "A platform that reads meters in schools and offices every 15 minutes and cuts "
           "consumption by scheduling heating and cooling."),
          ("Partners for district heating and cooling pilots",
           "Looking for utilities or estate managers who run district heating or cooling and "
           "want to test load forecasting.")),
    Topic("air quality", ("LoRaWAN", "low-power sensors", "edge computing"),
          ("Low-cost air-quality and noise sensor networks",
           "Calibrated sensors for PM2.5, NO2 and noise on lamp posts, solar-powered, with an "
           "open data interface."),
          ("Street furniture for sensor pilots",
           "We seek a city or street-furniture operator to host 50 sensors for a year-long "
           "air-quality pilot.")),
    Topic("open data", ("APIs", "dashboards", "data governance"),
          ("Open urban data platform as a service",
           "Publishes a city's datasets with APIs and dashboards, compliant with European "
           "open-data rules and ready for local hosting."),
          ("Datasets and use cases for urban dashboards",
           "Looking for agencies that want to share mobility, energy or environment data "
           "through one dashboard.")),
    Topic("water", ("smart meters", "acoustic leak detection", "hydraulic modelling"),
          ("Leak detection for water networks",
           "Acoustic loggers and analytics that locate leaks within metres; cuts "
           "non-revenue water by a fifth."),
          ("A utility to pilot smart water metering",
           "We look for a water utility to pilot smart metering and leak detection in one "
           "district.")),
    Topic("smart lighting", ("LED retrofits", "adaptive dimming", "lighting controls"),
          ("Adaptive street lighting",
           "Controllers that dim street lights to traffic and weather; they retrofit existing "
           "LED luminaires and halve their energy use."),
          ("Municipalities to pilot adaptive lighting",
           "Looking for a municipality or lighting operator to retrofit one district and "
           "measure the savings with us.")),
    Topic("waste", ("fill-level sensors", "route optimization", "circular economy"),
          ("Waste collection planned on fill levels",
           "Fill-level sensors in public bins and routes that skip the empty ones: fewer "
           "truck kilometres, cleaner streets."),
          ("Waste operators for a collection pilot",
           "We seek a waste operator or estate manager to equip a few hundred bins for a "
           "six-month pilot.")),
    Topic("buildings", ("BACnet", "indoor climate", "machine learning"),
          ("Indoor-climate analytics for office buildings",
           "Analyses temperature, CO2 and occupancy to tune building automation; shows "
           "savings within weeks."),
          ("Buildings to test occupancy-based control",
           "Looking for property owners with building automation who want to pilot "
           "occupancy-based heating and cooling.")),
    Topic("civic participation", ("participation platforms", "open source", "accessibility"),
          ("Citizen participation platform",
           "An open-source platform for consultations, participatory budgets and "
           "neighbourhood proposals, in several languages."),
          ("Agencies that consult residents online",
           "We look for city agencies and community boards that want to run a participatory "
           "budget online.")),
    Topic("digital twins", ("3D city models", "simulation", "BIM"),
          ("3D digital twins for urban planning",
           "City models that combine buildings, terrain and sensor data to simulate wind, sun "
           "and traffic for planning decisions."),
          ("A planning department for a digital-twin pilot",
           "Looking for a planning agency that wants to test a digital twin on one "
           "redevelopment area.")),
    Topic("public safety", ("privacy by design", "crowd monitoring", "video analytics"),
          ("Crowd monitoring without identifying anyone",
           "Counts and flows of people in public spaces from anonymous sensors, for event "
           "safety and the planning of squares."),
          ("Venues to test crowd analytics",
           "We seek venue and event operators to pilot crowd analytics at large public "
           "events.")),
)
TOPIC_BY_TAG = {topic.tag: topic for topic in TOPICS}
# The topic an organization's sector speaks of; other sectors draw one.
SECTOR_TOPICS = {
    "Urban mobility": "mobility data", "Smart energy": "energy", "IoT sensing": "air quality",
    "Urban data platforms": "open data", "Water management": "water",
    "Smart lighting": "smart lighting", "Public lighting": "smart lighting",
    "Waste and circularity": "waste", "Building technology": "buildings",
    "Digital government": "civic participation", "Digital twins": "digital twins",
    "Public safety": "public safety", "Environmental research": "air quality",
    "Climate adaptation research": "water", "Open data": "open data",
}
MEETING_MESSAGES = (
    "We would like to present our solution and hear about your plans.",
    "Your offer fits a pilot we are preparing; could we meet at the expo?",
    "We are looking for a partner in your region and would be glad to talk.",
    "Could we meet to see whether a joint pilot makes sense?",
    "We read your request and think we can help; shall we meet?",
    "",
)
DECLINE_REASONS = (
    "Our agenda at the expo is full; let us talk after the congress.",
    "Not a fit for our current projects, thank you.",
    "We already work with a partner in this field.",
)
CANCEL_REASONS = (
    "Our flight was changed; we will not be at the expo that day.",
    "We met at the workshop already and continue by email.",
    "A colleague will contact you instead.",
)
POINTS = (*(MeetingPointIn.from_values(name=f"Table {n}") for n in range(1, 21)),
          *(MeetingPointIn.from_values(name=name, kind=MeetingPointKind.BOOTH)
            for name in ("SmartCityTech booth", "Ciutat Digital booth", "Beachheads' booth")))
# The meeting blocks: (day of the event, local start, local end).
BLOCKS = ((1, "10:00", "13:00"), (1, "14:30", "17:30"), (2, "10:00", "13:00"))
REQUESTS_OPEN = timedelta(weeks=4)  # before a past expo; the next one's open with registration


def _stakeholder_organizations() -> Iterable[OrganizationSpec]:
    for name, country, city, helix, size, sector, profile, _ in HOST_STAKEHOLDERS:
        yield OrganizationSpec(name, country, city, sector, size, helix, "", profile, None)


def _stakeholder_contacts() -> Iterable[PersonSpec]:
    for name, *_, contact in HOST_STAKEHOLDERS:
        yield PersonSpec(_email(contact), contact, name)


def _marketplace_applications(
    smes: list[Applicant], barcelona: EventSpec, applications: list[Application], now: datetime
) -> list[Application]:
    """Delegates approved for the next expo, enough for a real marketplace: SMEs that had
    not applied, and the triple helix of the host cluster and of Gent."""
    rng = random.Random(f"{MARKETPLACE_SEED}/{UPCOMING_BARCELONA}")
    applied = {a.applicant.email for a in applications if a.event == barcelona.slug}
    chosen = rng.sample([a for a in smes if a.email not in applied], MARKETPLACE_DELEGATES)
    chosen += [Applicant(_email(contact), CLUSTER_BY_KEY[key].manager_email)
               for key, *_, contact, _ in TRIPLE_HELIX if key in MARKETPLACE_TRIPLE_HELIX]
    result = []
    for applicant in chosen:
        day = _today(now, barcelona.timezone) - timedelta(days=rng.randint(11, 13))
        applied_at = (datetime.combine(day, time(7), tzinfo=UTC)
                      + timedelta(minutes=5 * rng.randint(0, 96)))
        result.append(Application(barcelona.slug, applicant, (
            Step(S.SUBMITTED, applied_at, True, ""),
            Step(S.APPROVED, applied_at + timedelta(days=5), False, ""))))
    return result


@contextmanager
def _unmailed() -> Iterator[None]:
    """History recorded, not lived: the mail the services queue inside is dropped as it
    is queued (the meeting request service, unlike the registration one, has no history
    mode of its own)."""
    session = db.session()

    def drop(session, message) -> None:
        if isinstance(message, OutboxMessage):
            session.expunge(message)

    sa_event.listen(session, "transient_to_pending", drop)
    try:
        yield
    finally:
        sa_event.remove(session, "transient_to_pending", drop)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """An instant from `start` to `end`, on a whole minute."""
    minutes = max(0, int((end - start).total_seconds() // 60))
    return start.replace(second=0, microsecond=0) + timedelta(minutes=rng.randint(0, minutes))


def _ensure_matchmaking(content: Plan, users: dict[str, User], events: dict[str, Event],
                        now: datetime) -> None:
    """The expo marketplaces, each built whole the first time (a marketplace already
    switched on is left as it is): settings, participants with their profiles and
    opportunities, and meeting requests in every state, through the services at the
    story's instants, mailing nobody."""
    upcoming = _upcoming_missions(now)[UPCOMING_BARCELONA].slug
    organizer = users[BARCELONA.manager_email]
    with _unmailed():
        _ensure_stakeholder_invitations(content.events[upcoming], events[upcoming], users,
                                        organizer)
        for key, spec in MARKETPLACES.items():
            slug = upcoming if key == UPCOMING_BARCELONA else key
            event = events[slug]
            if matchmaking_settings.of_event(event.id) is None:
                _build_marketplace(content.events[slug], event, spec, organizer, now)
            db.session.flush()
            _ensure_schedule(content.events[slug], event, organizer, now)
        _ensure_pending_invitations(content.events[upcoming], events[upcoming], users, now)


# --------------------------------------------------------------------------- meetings

# "Schedule all" for the demo: the solver's deterministic time (one thread), so the same
# marketplace gets the same schedule on any machine; a few of its seconds prove the most
# meetings and the fewest idle slots of the expos' few dozen meetings.
SCHEDULE_SECONDS = 3.0
HELD_SHARE = 0.82  # of a past expo's placed meetings; the others were no-shows
SCANNED_SHARE = 0.6  # of the held ones: a badge scanned at the table, else both "we met"
RATED_SHARE = 0.8  # of the sides of a held meeting; of a no-show's: NO_SHOW_RATED
NO_SHOW_RATED = 0.4
RATINGS = {MeetingRatingAnswer.COOPERATION_POSSIBLE: 30, MeetingRatingAnswer.INFORMATIVE: 45,
           MeetingRatingAnswer.INSUFFICIENT_INTEREST: 25}
RATING_COMMENTS = (
    "Good fit: they need exactly what we pilot at home.",
    "Interesting, but their procurement cycle is long.",
    "They asked for references in their own region first.",
    "Agreed to share our case studies and talk again after the expo.",
    "Too early for them; we stay in touch.",
)
COMMENTED = 0.25
FOLLOW_UP_ANSWERED = 0.6
FOLLOW_UPS = {FollowUpAnswer.NO_FURTHER_CONTACT: 40, FollowUpAnswer.IN_DISCUSSION: 40,
              FollowUpAnswer.NEGOTIATION_STARTED: 20}


def _ensure_schedule(spec: EventSpec, event: Event, organizer: User, now: datetime) -> None:
    """The expo's accepted meetings placed by "schedule all" once (a marketplace already
    scheduled is left as it is) and published: a past expo's schedule final the day
    before it, with what its meetings led to; the next one's preliminary, the evening
    before the day the demo is loaded (its requests still come in: those accepted later
    take a free slot as they are accepted, and its agendas are there to see)."""
    settings = matchmaking_settings.of_event(event.id)
    if settings is None or db.session.scalar(select(ScheduleRun.id).where(
            ScheduleRun.matchmaking_id == settings.id).limit(1)) is not None:
        return
    past = event.ends_at < now
    at = (event.starts_at - timedelta(hours=23) if past
          else _midnight(_today(now, spec.timezone), spec.zone) - timedelta(minutes=30))
    published_at = at + timedelta(minutes=20)
    with _as_of(at):
        run = meeting_schedule.schedule_all(event.id, actor=organizer,
                                            seconds=SCHEDULE_SECONDS, deterministic=True,
                                            in_write_step=True)
    with _as_of(published_at):
        meeting_schedule.publish(
            event.id, ScheduleState.FINAL if past else ScheduleState.PRELIMINARY,
            actor=organizer)
    # Dated in the story, within the time limit; `seconds` keeps the solve's own time.
    run.started_at, run.finished_at = at, at + timedelta(seconds=SCHEDULE_SECONDS)
    settings.schedule_published_at = settings.updated_at = published_at
    for meeting in db.session.scalars(select(Meeting).where(Meeting.event_id == event.id)):
        meeting.created_at = meeting.updated_at = at
    if past:
        _meeting_outcomes(spec, event, organizer)


def _meeting_outcomes(spec: EventSpec, event: Event, organizer: User) -> None:
    """What a past expo's meetings led to, through the services at the story's instants:
    most held (a badge scanned at the table, or both sides' "we met"), some no-shows;
    each side's rating after the slot; the follow-up six months later, and its answer.
    The meetings behind the expo's collaboration agreements were held and rated well;
    their follow-ups name the agreement (or the negotiation under way)."""
    rng = random.Random(f"{MARKETPLACE_SEED}/{spec.slug}/outcomes")
    length = timedelta(minutes=matchmaking_settings.of_event(event.id).meeting_minutes)
    agreed = _agreements_by_pair(event)
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.event_id == event.id, Meeting.starts_at.is_not(None))
        .options(selectinload(Meeting.request).options(
            selectinload(MeetingRequest.requester).selectinload(Participant.registration)
            .selectinload(Registration.user),
            selectinload(MeetingRequest.receiver).selectinload(Participant.registration)
            .selectinload(Registration.user)))
        .order_by(Meeting.starts_at, Meeting.id)).all()
    for meeting in meetings:
        sides = (meeting.request.requester, meeting.request.receiver)
        agreement = agreed.get(frozenset(s.registration.user.organization_id for s in sides))
        held = agreement is not None or rng.random() < HELD_SHARE
        if held:
            _hold(rng, meeting, sides, organizer)
        ends = meeting.starts_at + length
        took_place = held
        for side in sides:
            user = side.registration.user
            if agreement is not None:
                answer = MeetingRatingAnswer.COOPERATION_POSSIBLE
            elif held and rng.random() < RATED_SHARE:
                answer = rng.choices(list(RATINGS), weights=list(RATINGS.values()))[0]
            elif not held and rng.random() < NO_SHOW_RATED:
                answer = MeetingRatingAnswer.DID_NOT_TAKE_PLACE
            else:
                continue
            comment = (rng.choice(RATING_COMMENTS)
                       if held and (agreement is not None or rng.random() < COMMENTED) else "")
            rated_at = _between(rng, ends + timedelta(minutes=5), ends + timedelta(hours=30))
            with _as_of(rated_at):
                meeting_outcomes.rate(meeting.id, MeetingRatingIn.from_values(
                    answer=answer, comment=comment), actor=user, now=rated_at)
            took_place = took_place or answer != MeetingRatingAnswer.DID_NOT_TAKE_PLACE
        if took_place:
            _follow_up(rng, meeting, sides, agreement)


def _agreements_by_pair(event: Event) -> dict[frozenset[int], Agreement]:
    """The expo's collaboration agreements by their two organizations."""
    found = {}
    for agreement in db.session.scalars(
            select(Agreement).where(Agreement.origin_event_id == event.id,
                                    Agreement.kind == AgreementKind.COLLABORATION)
            .options(selectinload(Agreement.parties))):
        organizations = frozenset(p.organization_id for p in agreement.parties)
        if len(organizations) == 2 and None not in organizations:
            found[organizations] = agreement
    return found


def _hold(rng: random.Random, meeting: Meeting, sides: tuple[Participant, Participant],
          organizer: User) -> None:
    """The meeting held: a side's badge scanned at its table as it sat down, or both
    sides tapping "we met" during it."""
    if rng.random() < SCANNED_SHARE:
        side = rng.choice(sides)
        at = meeting.starts_at + timedelta(minutes=rng.randint(0, 6))
        with _as_of(at):
            meeting_outcomes.scan_at_point(meeting.event_id, meeting.point_id,
                                           side.registration.badge_code, actor=organizer,
                                           now=at)
        return
    at = meeting.starts_at + timedelta(minutes=rng.randint(15, 25))
    for side in sides:
        at += timedelta(minutes=rng.randint(0, 3))
        with _as_of(at):
            meeting_outcomes.tap_met(meeting.id, actor=side.registration.user, now=at)


def _follow_up(rng: random.Random, meeting: Meeting, sides: tuple[Participant, Participant],
               agreement: Agreement | None) -> None:
    """Each side's follow-up, claimed as `tick` claims it when due (its mail is not
    sent: the demo mails nobody), and most answered within weeks. The answers about a
    meeting that led to an agreement say so; the requester's (the SME's) names the
    agreement, as recording it from the follow-up would, without a second one."""
    sent_at = meeting.starts_at + meeting_outcomes.follow_up_after() + timedelta(minutes=10)
    for side in sides:
        follow_up_id = meeting_outcomes.claim(meeting, side, sent_at)
        if follow_up_id is None or (agreement is None
                                    and rng.random() >= FOLLOW_UP_ANSWERED):
            continue
        if agreement is None:
            answer = rng.choices(list(FOLLOW_UPS), weights=list(FOLLOW_UPS.values()))[0]
        elif agreement.status == AgreementStatus.SIGNED:
            answer = FollowUpAnswer.AGREEMENT_REACHED
        else:
            answer = FollowUpAnswer.NEGOTIATION_STARTED
        answered_at = _between(rng, sent_at + timedelta(hours=2), sent_at + timedelta(days=20))
        follow_up = db.session.get(MeetingFollowUp, follow_up_id)
        with _as_of(answered_at):
            meeting_outcomes.answer_follow_up(meeting_outcomes.link_token(follow_up),
                                              FollowUpIn.from_values(answer=answer),
                                              now=answered_at)
            if (answer == FollowUpAnswer.AGREEMENT_REACHED
                    and side.id == meeting.request.requester_id):
                follow_up.agreement_id = agreement.id
                audit.record(side.registration.user, "meeting.agreement_recorded", meeting,
                             event_id=meeting.event_id,
                             changes={"agreement": [None, agreement.id]})
        db.session.flush()


def _ensure_stakeholder_invitations(spec: EventSpec, event: Event, users: dict[str, User],
                                    organizer: User) -> None:
    """The target regions' stakeholders, registered by the organizers as hosts: approved
    outside capacity, as the beachheads' invitations will register them."""
    registered = set(db.session.scalars(select(Registration.user_id).where(
        Registration.event_id == event.id)))
    rng = random.Random(f"{MARKETPLACE_SEED}/{spec.slug}/invitations")
    contacts = [contact for *_, contact, _ in TARGET_REGION_ORGANIZATIONS]
    contacts += [contact for *_, contact in HOST_STAKEHOLDERS]
    opens_at = _midnight(spec.registration_opens, spec.zone)
    for contact in contacts:
        invited_at = opens_at + timedelta(days=rng.randint(1, 3), hours=9,
                                          minutes=5 * rng.randint(0, 60))
        user = users[_email(contact)]
        if user.id in registered:
            continue
        with _as_of(invited_at):
            reg = registrations.register_directly(user, event.id, EventRole.HOST,
                                                  actor=organizer)
        reg.applied_at = reg.decided_at = reg.updated_at = invited_at
        # Its mail was dropped, and with it the calendar invitation it would have carried.
        reg.calendar_uid, reg.calendar_sequence = None, 0


# Stakeholders of the target regions the beachheads invited to the next expo, who have
# not answered yet: (host's email, name, organization, country, language of the mail).
PENDING_INVITATIONS = (
    (f"host.ipi@{DEMO_DOMAIN}", "Lim Jia Hui", "Punggol Digital District Office", "SG", "en"),
    (f"host.necec@{DEMO_DOMAIN}", "Daniel Okafor", "Charles River Microgrid Cooperative", "US",
     "en"),
)


def _ensure_pending_invitations(spec: EventSpec, event: Event, users: dict[str, User],
                                now: datetime) -> None:
    """Invitations of the next expo waiting for an answer, sent two days before the day
    the demo is loaded (so their links still work), mailing nobody. Their links are never
    mailed, so what identifies each is drawn from the seed: two loads of one day agree."""
    if db.session.scalar(select(StakeholderInvitation.id).where(
            StakeholderInvitation.event_id == event.id)) is not None:
        return
    rng = random.Random(f"{MARKETPLACE_SEED}/{spec.slug}/pending-invitations")
    sent_at = _midnight(_today(now, spec.timezone), spec.zone) - timedelta(days=2, hours=-10)
    for number, (host, name, organization, country, language) in enumerate(
            PENDING_INVITATIONS):
        at = sent_at + timedelta(minutes=25 * number)
        with _as_of(at):
            invitation = stakeholder_invitations.invite(
                event.id, StakeholderInvitationIn.from_values(
                    email=_email(name), name=name, organization=organization,
                    country=country, language=language), actor=users[host])
        invitation.created_at = invitation.sent_at = at
        invitation.expires_at = at + stakeholder_invitations.VALID_FOR
        invitation.token_nonce = f"{rng.getrandbits(128):032x}"


def _build_marketplace(spec: EventSpec, event: Event, plan_: Marketplace, organizer: User,
                       now: datetime) -> None:
    rng = random.Random(f"{MARKETPLACE_SEED}/{spec.slug}")
    past = event.ends_at < now
    opens_at = (event.starts_at - REQUESTS_OPEN if past
                else _midnight(spec.registration_opens, spec.zone))
    switched_at = opens_at - timedelta(days=1)
    # Switched on open, its window set once its requests are in: the services ask for a
    # window open on the clock, and the story's clock is not it (a past event, a demo
    # loaded as of another day).
    with _as_of(switched_at):
        market = matchmaking.switch_on(event.id, MatchmakingIn.from_values(), actor=organizer)
        for day, start, end in BLOCKS:
            local_day = spec.first_day + timedelta(days=day)
            matchmaking.add_block(event.id, MeetingBlockIn.from_values(
                starts_local=datetime.combine(local_day, time.fromisoformat(start)),
                ends_local=datetime.combine(local_day, time.fromisoformat(end))),
                actor=organizer)
        for point in POINTS:
            matchmaking.add_point(event.id, point, actor=organizer)
    # The next expo's history ends before the day the demo is loaded: loaded twice that
    # day, it is the same.
    today = _midnight(_today(now, spec.timezone), spec.zone)
    latest = event.starts_at - timedelta(days=1) if past else today - timedelta(hours=1)
    # Held while the marketplace is built: the services read its participants afresh,
    # and the registrations they lead to would otherwise be loaded again each time.
    approved = _approved(event)
    agreed = _agreement_pairs(spec.slug, event, approved)
    participants = _join_marketplace(rng, approved, plan_, opens_at, latest,
                                     [pair.sme for pair in agreed])
    _request_meetings(rng, market, participants, plan_, latest, today, agreed)
    _block_slots(spec, market, participants, agreed, latest - timedelta(minutes=30))
    market.requests_open_at, market.requests_close_at = opens_at, event.ends_at
    market.created_at = market.updated_at = switched_at


BLOCKING = 5  # participants of each expo who cannot meet for part of it


def _block_slots(spec: EventSpec, market: Matchmaking,
                 participants: dict[Participant, datetime], agreed: list[AgreedPair],
                 at: datetime) -> None:
    """Slots some participants cannot meet in, set once their requests are in: the SMEs
    whose meeting led to an agreement were at the expo only the day they met, and a few
    others block a stretch (a late flight, the workshop), drawn from a generator of its
    own. "Schedule all" keeps them free."""
    rng = random.Random(f"{MARKETPLACE_SEED}/{spec.slug}/unavailable")
    slots = market.slot_starts()
    zone = market.event.zone
    by_registration = {p.registration_id: p for p in participants}
    blocking = {by_registration[pair.sme.id]: [s for s in slots
                                               if s.astimezone(zone).date() != pair.met_on]
                for pair in agreed}
    others = sorted((p for p in participants if p not in blocking), key=lambda p: p.id)
    for participant in rng.sample(others, BLOCKING):
        first = rng.randrange(len(slots) - 3)
        blocking[participant] = slots[first:first + rng.randint(2, 4)]
    for participant, wanted in blocking.items():
        with _as_of(at):
            matchmaking.set_unavailable(participant.id, UnavailableSlotsIn.from_values(
                slots=wanted), actor=participant.registration.user)


def _approved(event: Event) -> list[Registration]:
    return db.session.scalars(
        select(Registration).join(Registration.user)
        .where(Registration.event_id == event.id, Registration.status == S.APPROVED)
        .options(contains_eager(Registration.user).joinedload(User.organization))
        .order_by(User.email)).all()


class AgreedPair(NamedTuple):
    """Two registrations whose meeting at an expo led to an agreement, and the day talks
    began (the day they met)."""

    sme: Registration
    other: Registration
    met_on: date


def _agreement_pairs(slug: str, event: Event, approved: list[Registration]
                     ) -> list[AgreedPair]:
    """The collaboration agreements that came out of this expo's meetings, as the pairs
    of registrations that met (the delegate SME's, the target region organization's):
    both join its marketplace, the other accepts the SME's request, and the SME, at the
    expo that day only, blocks the other days' slots."""
    by_organization = {r.user.organization_id: r for r in approved}
    pairs = []
    for spec in AGREEMENTS:
        if spec.origin != slug or spec.kind != AgreementKind.COLLABORATION:
            continue
        delegate, other = spec.parties
        number = int(delegate.rpartition(":")[2])
        sme = by_organization.get(_mission_smes(event)[number].id)
        target = next((r for r in approved if r.user.organization is not None
                       and f"organization:{r.user.organization.name}" == other), None)
        if sme is not None and target is not None:
            pairs.append(AgreedPair(sme, target, spec.started_on))
    return pairs


def _join_marketplace(rng: random.Random, approved: list[Registration], plan_: Marketplace,
                      opens_at: datetime, latest: datetime,
                      agreed: list[Registration]) -> dict[Participant, datetime]:
    """The approved registrants who opted in, with the instant each gave their consent:
    every stakeholder of the target regions and of the triple helix, and some of the
    SMEs (the demo SME and those whose meetings led to an agreement among them), each
    with a profile and one to three opportunities."""
    smes = [r for r in approved if _participant_type(r) == "sme"]
    sure = [r for r in smes if r.user.email == DEMO_SME.email or r in agreed]
    others = [r for r in smes if r not in sure]
    chosen = set(sure + rng.sample(others, min(len(others), plan_.smes - len(sure))))
    version = current_app.config["CONSENT_VERSION"]
    joined: dict[Participant, datetime] = {}
    for reg in approved:
        if _participant_type(reg) == "sme" and reg not in chosen:
            continue
        since = max(opens_at, reg.decided_at or reg.applied_at)
        consent_at = min(_between(rng, since + timedelta(hours=2), since + timedelta(days=3)),
                         latest - timedelta(hours=1))
        kind = _participant_type(reg)
        topic, other = _topics(rng, reg.user.organization)
        with _as_of(consent_at):
            participant = matchmaking.join(reg.id, JoinIn.from_values(
                participant_type=kind, consent=True), actor=reg.user)
            matchmaking.update_profile(participant.id, ProfileIn.from_values(
                participant_type=kind, sectors=reg.user.organization.sector,
                technologies="\n".join(rng.sample(topic.technologies, 2))), actor=reg.user)
            for opportunity in _opportunities(rng, kind, reg.user.organization, topic,
                                              other)[:rng.choice((1, 1, 2, 2, 3))]:
                matchmaking.add_opportunity(participant.id, opportunity, actor=reg.user)
        joined[participant] = consent_at
    db.session.flush()
    for participant, consent_at in joined.items():
        participant.consent_given_at = participant.created_at = consent_at
        participant.updated_at = consent_at
        participant.consent_version = version
        for number, opportunity in enumerate(participant.opportunities):
            opportunity.created_at = opportunity.updated_at = (
                consent_at + timedelta(minutes=5 * (number + 1)))
    return joined


def _participant_type(reg: Registration) -> str:
    organization = reg.user.organization
    if organization is None or organization.home_cluster_id is None:
        return "host_stakeholder"
    return {Helix.RESEARCH: "research", Helix.GOVERNMENT: "government"}.get(
        organization.helix, "sme")


def _topics(rng: random.Random, organization: Organization) -> tuple[Topic, Topic]:
    """The organization's own topic (its sector's, or one drawn) and another."""
    own = TOPIC_BY_TAG.get(SECTOR_TOPICS.get(organization.sector, "")) or rng.choice(TOPICS)
    return own, rng.choice([t for t in TOPICS if t is not own])


def _opportunities(rng: random.Random, kind: str, organization: Organization, own: Topic,
                   other: Topic) -> list[OpportunityIn]:
    """What a participant publishes, the most telling first: an SME offers its solution
    and asks for pilots; a stakeholder asks for European solutions and offers pilot
    sites; research and government offer their living lab."""
    city = organization.city

    def item(type_: str, title: str, text: str, *tags: str) -> OpportunityIn:
        return OpportunityIn.from_values(opportunity_type=type_, title=title, text=text,
                                         tags="\n".join(tags))

    if kind == "sme":
        return [item("offer", *own.offer, own.tag, rng.choice(own.technologies)),
                item("request", *own.request, own.tag),
                item("request", f"A partner in {other.tag} for a joint offer",
                     f"We look for a company working on {other.tag} to offer cities a "
                     "combined solution.", other.tag)]
    if kind == "host_stakeholder":
        return [item("request", f"European {own.tag} solutions for {city}",
                     f"We look for European companies with proven {own.tag} solutions to "
                     f"pilot with us in {city}.", own.tag),
                item("offer", f"Pilot sites and introductions in {city}",
                     f"We open our network of agencies, estate managers and companies in "
                     f"{city} to European solutions and host their pilots.", "pilots",
                     own.tag),
                item("request", f"European {other.tag} solutions for {city}",
                     f"We also look for {other.tag} solutions ready for a pilot.", other.tag)]
    return [item("offer", f"Living lab for {own.tag} pilots in {city}",
                 f"Our living lab tests {own.tag} solutions with residents and city "
                 "services, and measures their effect.", own.tag, "living lab"),
            item("request", *other.request, other.tag),
            item("request", f"Partners for a joint {own.tag} research proposal",
                 f"We are building an international consortium on {own.tag}.", own.tag,
                 "research")]


def _request_meetings(rng: random.Random, market: Matchmaking,
                      participants: dict[Participant, datetime], plan_: Marketplace,
                      latest: datetime, today: datetime,
                      agreed: list[AgreedPair]) -> None:
    """The marketplace's meeting requests, each between a pair of participants that no
    other request of it joins, asked after both gave their consent and moved on to its
    state by the side whose move it is; the unanswered ones expire by `tick` last. The
    pairs whose meeting led to an agreement come first: the SME asked, the other accepted
    (among the plan's accepted requests)."""
    people = list(participants)
    by_registration = {p.registration_id: p for p in people}
    slots = market.slot_starts()
    states = [state for state, count in plan_.requests.items() for _ in range(count)]
    paired: set[frozenset[int]] = set()
    for sme, other, _met_on in agreed:
        requester, receiver = by_registration[sme.id], by_registration[other.id]
        earliest = max(participants[requester], participants[receiver]) + timedelta(hours=1)
        window = _request_window(M.ACCEPTED, earliest, latest, today,
                                 market.request_expiry_hours)
        if window is None:
            continue
        states.remove(M.ACCEPTED)
        paired.add(frozenset((requester.id, receiver.id)))
        _request_meeting(rng, requester, receiver, M.ACCEPTED, window, slots, market)
    rng.shuffle(states)
    expiring: list[MeetingRequest] = []
    for state in states:
        for _attempt in range(50):
            requester = rng.choice(people)
            # Most meetings join an SME and a stakeholder.
            others = [p for p in people if p is not requester]
            unlike = [p for p in others if (p.participant_type.key == "sme")
                      != (requester.participant_type.key == "sme")]
            receiver = rng.choice(unlike if unlike and rng.random() < 0.75 else others)
            pair = frozenset((requester.id, receiver.id))
            earliest = max(participants[requester], participants[receiver]) + timedelta(hours=1)
            window = _request_window(state, earliest, latest, today,
                                     market.request_expiry_hours)
            if pair not in paired and window is not None:
                break
        else:
            continue
        paired.add(pair)
        req = _request_meeting(rng, requester, receiver, state, window, slots, market)
        if state == M.EXPIRED:
            expiring.append(req)
    db.session.flush()
    for req in sorted(expiring, key=lambda r: (r.expires_at, r.id)):
        with _as_of(req.expires_at):
            meeting_requests.expire_due(req.expires_at)
        req.updated_at = req.expires_at


def _request_window(state: M, earliest: datetime, latest: datetime, today: datetime,
                    expiry_hours: int) -> tuple[datetime, datetime] | None:
    """When a request that ends in `state` may have been made (None: it cannot have).
    `today`: the start of the day the demo is loaded."""
    expiry = timedelta(hours=expiry_hours)
    if state == M.REQUESTED:  # still open at the end of today
        start, end = max(earliest, today - expiry + timedelta(days=1, hours=1)), latest
    elif state == M.EXPIRED:
        start, end = earliest, min(latest, today) - expiry - timedelta(hours=1)
    else:
        start, end = earliest, latest - timedelta(hours=3)
    return (start, end) if start < end else None


def _request_meeting(rng: random.Random, requester: Participant, receiver: Participant,
                     state: M, window: tuple[datetime, datetime], slots: list[datetime],
                     market: Matchmaking) -> MeetingRequest:
    """One request, asked and answered through the service at the story's instants."""
    asked_at = _between(rng, *window)
    preferred = sorted(rng.sample(slots, rng.choice((0, 1, 2, 2))))
    with _as_of(asked_at):
        req = meeting_requests.request(requester.id, MeetingRequestIn.from_values(
            receiver_id=receiver.id, message=rng.choice(MEETING_MESSAGES),
            preferred_slots=preferred), actor=requester.user)
    expires_at = asked_at + timedelta(hours=market.request_expiry_hours)
    answer_by = min(expires_at, window[1] + timedelta(hours=3)) - timedelta(minutes=30)
    decided_at = ended_at = None
    if state == M.ACCEPTED or (state == M.CANCELLED and rng.random() < 0.5):
        decided_at = ended_at = _between(rng, asked_at + timedelta(minutes=20), answer_by)
        with _as_of(decided_at):
            meeting_requests.accept(req.id, actor=receiver.user)
    elif state == M.DECLINED:
        decided_at = ended_at = _between(rng, asked_at + timedelta(minutes=20), answer_by)
        with _as_of(decided_at):
            meeting_requests.decline(req.id, actor=receiver.user,
                                     reason=rng.choice(DECLINE_REASONS))
    if state == M.CANCELLED:
        # An accepted meeting cancelled by either side; an open request by its requester.
        side = rng.choice((requester, receiver)) if decided_at else requester
        start = (decided_at or asked_at) + timedelta(minutes=30)
        ended_at = _between(rng, start, window[1] + timedelta(hours=3) if decided_at
                            else answer_by)
        with _as_of(ended_at):
            meeting_requests.cancel(req.id, actor=side.user, reason=rng.choice(CANCEL_REASONS))
    req.created_at, req.expires_at, req.decided_at = asked_at, expires_at, decided_at
    req.updated_at = ended_at or asked_at
    return req

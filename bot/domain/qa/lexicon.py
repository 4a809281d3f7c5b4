"""Cue words for understanding German questions: data for the matcher, not translations.

Each concept lists word forms as members type them. A plain entry matches a token whose
German stem equals the entry's stem; ``*word`` also matches compounds ending in the stem
("Netzwerktreffen", "Telefonnummer"); ``word*`` matches tokens starting with the folded
word ("abonnier" → "abonnieren", "abonniert"). Entries are folded like the input
(lower case, ä → ae, ß → ss) before they are compared.
"""

from __future__ import annotations

from typing import Final

# What the member asks for (aspects) and what kind of question it is (cues).
# fmt: off
CONCEPTS: Final[dict[str, tuple[str, ...]]] = {
    # Things
    "event": ("getroffen", "trifft", "treffe", "treffa",
        "*treffen", "*treff", "*termin", "*termine", "*veranstaltung", "meeting", "meetings",
        "event", "events", "*sitzung", "tagung", "*konferenz", "zusammenkunft", "netzwerktreffen",
        "stammtisch",
    ),
    "network": ("*netzwerk", "*netzwerke", "netzwerks", "netz", "cluster", "verein"),
    "alliance": (
        "buendnis*", "itbuendnis*", "allianz", "verbund", "zusammenschluss", "dachverband",
    ),
    "initiative": ("landesinitiative", "initiative"),
    "funding": (
        "foerder*", "gefoerdert", "finanzier*", "geldgeber", "zuschuss", "zuschuesse",
        "subvention*", "unterstuetzung", "*foerderung", "*foerderlinie", "*foerderprogramm",
    ),
    "programme_name": ("accelerator", "foerderlinie*", "foerderprogramm*"),
    "coordinator": ("*koordination", "koordinator*", "koordiniert", "koordinier*"),
    "partners": ("projektpartner*", "partner", "partnern"),
    "agreement": (
        "ueberreicht", "partnerschaftsvereinbarung*", "vereinbarung", "urkunde",
        "kooperationsvertrag",
    ),
    "motto": ("motto", "slogan", "leitspruch", "leitsatz"),
    "principles": ("grundsatz", "grundsaetze", "prinzip*", "zusammenarbeit"),
    "figures": ("branche", "itbranche", "beschaeftigte*", "umsatz", "kennzahlen", "zahlen"),
    "founded": ("gegruendet", "gruendung*", "entstanden", "gestartet", "ursprung", "seit"),
    # Time
    "next": (
        "naechst*", "nachst*", "kommend*", "demnaechst", "bald", "bevorstehend*", "anstehend*",
        "zukuenftig*", "kuenftig*", "geplant", "planen", "plant", "upcoming", "folgend*",
        "nahende*",
    ),
    "past": ("passiert", "vorletzt*",
        "letzt*", "bisher*", "bislang", "vergangen*", "damals", "war", "waren", "gab",
        "fand", "fanden", "stattgefunden", "gewesen", "frueher*", "zuletzt", "vorig*",
        "abgelaufen*",
    ),
    "list": (
        "welche", "welcher", "alle", "alles", "liste", "auflisten", "uebersicht", "ueberblick",
        "aufzaehlen", "saemtliche", "irgendwelche",
    ),
    "new": (
        "neu", "neue", "neuen", "hinzu*", "dazu*", "dazugekommen", "beigetreten", "neuzugang*",
    ),
    "after_next": ("uebernaechst*",),
    "join": (
        "beitreten", "beitritt*", "mitmachen", "aufnahme*", "aufgenommen", "anschliessen",
        "mitgliedsantrag",
    ),
    "jury": ("jury", "juroren", "juror*", "ausgewaehlt", "auswahl*"),
    # Aspects
    "when": ("wann", "datum", "tag", "zeitpunkt", "wielange", "stattfinden", "stattfindet"),
    "time": ("uhr", "uhrzeit", "beginn*", "anfang*", "faengt", "startet", "ende", "endet",
             "dauert", "zeit"),
    "where": ("wo", "wohin", "ort", "location", "raeumlichkeit*", "veranstaltungsort*",
              "stadt", "region"),
    "speakers": (
        "referent*", "redner*", "sprecher*", "spricht", "sprechen", "gesprochen", "vortrag*",
        "vortraege", "keynote", "speaker*", "*vortrag", "podium", "moderation", "moderiert",
    ),
    "programme": ("worueber", "programmpunkt*",
        "programm", "programms", "themen", "thema", "agenda", "tagesordnung", "inhalt*",
        "worum", "besprochen", "diskutiert", "ablauf", "themenbloecke",
    ),
    "outcomes": (
        "rausgekommen", "herausgekommen", "ergebnis*", "beschlossen", "beschluss*",
        "resultat*", "fazit", "erreicht", "bilanz",
    ),
    "website": (
        "website", "webseite", "homepage", "internetseite", "internetauftritt", "url", "link",
        "www", "web", "seite*", "onlineauftritt",
    ),
    "leader": ("hinter", "sagen", "laden",
        "leitet", "leiter*", "leitung", "chef*", "geleitet", "fuehrt", "vorsitz*", "vorstand",
        "verantwortlich*", "boss", "geschaeftsfuehr*", "leiten", "oberhaupt", "chefin",
    ),
    "name": ("heisst", "heissen", "name", "namen", "nennt", "bezeichnung"),
    "members": ("mitglieder", "mitgliedern", "mitgliederzahl", "mitgliedsunternehmen"),
    "count": ("viele", "wieviele", "anzahl", "zahl"),
    "fees": (
        "kosten", "kostet", "kostenlos", "beitrag", "mitgliedsbeitrag*", "gebuehr*", "preis",
        "preise", "eintritt*", "teuer", "bezahlen", "zahlt", "ticket*", "mitgliedschaft",
    ),
    "contact": (
        "kontakt*", "telefon*", "*nummer", "email*", "mail", "mailadresse", "adresse",
        "erreichen", "erreichbar", "anrufen", "ansprechpartner*", "handy", "fax",
        "ansprechperson", "postanschrift", "anschrift",
    ),
    "travel": (
        "parken", "parkplatz*", "parkhaus", "parkmoeglichkeit*", "anreise*", "anfahrt",
        "bahn", "zug", "bus", "auto", "hotel*", "uebernacht*", "wegbeschreibung", "oepnv",
        "bahnhof", "barrierefrei*", "catering", "verpflegung", "essen", "mittagessen",
        "kaffee", "dresscode", "kleiderordnung",
    ),
    "registration": (
        "*anmeldung", "gruppenanmeldung", "anmeldung", "anmelden", "registrier*",
        "teilnahmegebuehr", "platz",
                     "plaetze"),
    "attendance": ("teilnehmer*", "besucher*", "leute", "personen", "gaeste"),
    "deadline": (
        "frist*", "bewerb*", "bewerbungsfrist", "deadline", "einreich*", "ausschreibung*",
        "antrag*", "antragsfrist", "beantragen", "stichtag", "aufruf",
    ),
    "money": ("geld", "euro", "betrag", "summe", "foerdersumme", "budget", "hoehe",
              "finanziell*", "millionen", "tausend"),
    "current": ("aktuell*", "derzeit*", "momentan", "zurzeit", "heute", "gerade", "jetzt",
                "noch"),
    "regions": ("regionen", "region", "landkreise", "gebiete"),
    # Kinds of message
    "subscribe": (
        "abonnier*", "abo", "abos", "abonnement*", "erinnerung*", "erinnert", "erinnern",
        "benachrichtig*", "newsletter", "news", "neuigkeiten", "push", "informiert",
        "bescheid", "laufenden",
    ),
    "unsubscribe": (
        "beenden", "beende", "abstellen", "abstell*", "aufhoeren",
        "austrag*",
        "abbestell*", "abmelden", "abmeldung", "kuendig*", "austragen", "stopp", "stop",
        "deabonnier*", "abschalten", "ausschalten", "deaktivier*", "entfernen", "abbestellung",
        "unsubscribe",
    ),
    "news": ("news", "neuigkeit*", "newsletter", "neues", "neuerungen", "aktuelles"),
    "weekly": ("wochenvorschau*", "woechentlich*", "wochenuebersicht*", "wochenueberblick*"),
    # When reminders come: lead times and quiet hours (asked together with reminder words).
    "lead_time": (
        "vorher", "vorab", "zuvor", "frueher", "fruehzeitig", "spaeter", "stunde", "stunden",
        "*zeitpunkt", "*zeit", "uhrzeit", "einstell*", "umstell*",
    ),
    "quiet": (
        "nachts", "nacht", "schlaf*", "abends", "wochenende*", "stoeren", "stoert",
    ),
    "quiet_hours": ("ruhezeit*", "nachtruhe", "ruhepause*"),
    # The first half of separable verbs whose "ab" comes later: "melde ich mich ... ab".
    "off_verb": (
        "trage", "tragen", "tragt", "mach", "mache", "machen", "macht", "stell", "melde", "meldet",
        "bestelle", "bestellt", "schalte", "schaltet", "stelle",
                 "stellt"),
    "stop_words": (
        "koine", "koi", "koa", "ned", "nimmer", "keine", "kein", "nicht", "nie", "niemals",
    ),
    "more": ("meh", "mee", "mehr", "laenger"),
    "send": (
        "nochricht*", "zumuell*", "zuzumuell*", "belaestig*", "kriegen", "kriega", "bekommen",
        "erhalten", "schicken", "schickt", "senden", "sendet", "nachricht*", "schreiben", "spam*",
    ),
    "account": (
        "passwort*", "kennwort*", "password", "pw", "login", "einloggen", "eingeloggt",
        "konto", "account", "zugang*", "zugangsdaten", "benutzername", "zuruecksetzen",
        "anmeldedaten", "logge", "ausgesperrt",
    ),
    "greeting": ("laeufts", "gehts", "geht", "abend", "runde", "miteinander", "zusammen",
        "hallo", "hi", "hey", "moin", "moinsen", "servus", "gruess*", "gruezi", "hello",
        "huhu", "tach", "ahoi", "hallochen", "guten", "morgen", "abend", "tag", "gruss",
        "hoi", "salut",
    ),
    "thanks": (
        "geholfen", "hilfreich", "weitergeholfen", "super", "top", "prima", "klasse", "perfekt",
        "toll", "passt", "ok", "okay", "klar", "verstanden", "danke*", "dank", "merci", "thx",
        "thanks", "dankeschoen",
    ),
    "help": (
        "hilfe", "helfen", "hilf", "help", "befehl*", "kommando*", "funktion*", "fragen",
        "frag", "bedienung", "anleitung", "faehig*", "kannst", "weisst",
    ),
    "offtopic": (
        "restaurant*", "gedicht*", "einwohner*", "hotel*", "wein", "kindern", "gespielt", "spiel",
        "wahl", "landtagswahl", "gesperrt", "stau", "zug", "zuege", "fahrplan", "python",
        "programmieren", "code", "monde", "planet*", "parkt", "parken", "urlaub", "empfehlen",
        "empfiehlst", "deutschlandticket",
        "wetter", "regnet", "regen", "temperatur*", "sonne", "schnee", "fussball", "bundesliga",
        "witz", "rezept", "kochen", "aktien*", "boerse", "lotto", "horoskop", "wetterbericht",
    ),
    # Disappointment with an answer ("hat mir nicht weitergeholfen").
    "complaint": ("schlecht", "falsch", "nutzlos", "bloed", "doof", "quatsch", "unsinn",
                  "enttaeuscht", "enttaeuschend"),
    # Who hosted a meeting.
    "hosts": ("gastgeber*", "eingeladen", "ausgerichtet", "ausrichter", "organisiert",
              "organisator*", "veranstalter*", "veranstaltet", "einladung"),
    "who": ("wer", "wem", "wen", "wessen"),
    "what": ("was", "welches", "infos", "info", "informationen", "erzaehl*", "beschreib*",
             "erklaer*", "macht", "machen", "tut", "ist"),
}

# Words that carry no content of their own: never corrected to a data word, and not
# counted when deciding whether a greeting or a thank-you is all a message says.
_STOPWORD_TEXT: Final = """
    a ab aber alle allem allen aller alles als also am an andere anderen auch auf aus bei
    beim bin bis bist bitte da dabei damit dann das dass dein deine dem den denn der des
    dich die dies diese diesem diesen dieser dir doch dort du durch ein eine einem einen
    einer eines einfach eigentlich er es etwa etwas euch euer fuer fuers gar gern gerne gibt
    gibts ganz genau gut habe haben hast hat hatte ich ihr ihre ihnen im in ins ist ja je
    jetzt kann kannst koennen koennte kurz mal man mehr mein meine mich mir mit moechte
    muss nach ne nein nicht noch nun nur ob oder ohne schon sehr sein seine sich sie sind so
    soll sollen ueber um und uns unser unsere unter viel vom von vor war waere was weil
    welche welcher wenn wer wie wieder wir wird wo wurde zu zum zur zusammen okay ok ah oh
    hmm hm na eh ach also naja leute team frage wuerde gerade eher bzw
"""
STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())

# Ordinal words → number ("vierten" → 4); each is matched as a prefix of the folded token.
# fmt: off
ORDINALS: Final[dict[str, int]] = {
    "erste": 1, "zweite": 2, "dritte": 3, "vierte": 4, "fuenfte": 5, "sechste": 6,
    "siebte": 7, "siebente": 7, "achte": 8, "neunte": 9, "zehnte": 10, "elfte": 11,
    "zwoelfte": 12,
}
ORDINAL_ENDINGS: Final = ("", "n", "m", "r", "s")

MONTHS: Final[dict[str, int]] = {
    "januar": 1, "jaenner": 1, "februar": 2, "maerz": 3, "april": 4, "mai": 5, "juni": 6,
    "juli": 7, "august": 8, "september": 9, "oktober": 10, "november": 11, "dezember": 12,
}
# fmt: on

# Words for the season of a meeting that its title expresses differently.
SEASON_SYNONYMS: Final[dict[str, str]] = {
    "fruehling": "fruehjahr",
    "fruehlings": "fruehjahr",
    "fruehjahrs": "fruehjahr",
    "jahresende": "jahresabschluss",
    "jahresausklang": "jahresabschluss",
    "weihnacht": "jahresabschluss",
    "abschlusstreffen": "jahresabschluss",
    "sommerlich": "sommer",
    "herbstlich": "herbst",
}

# Title words that every meeting shares and that therefore identify none of them.
_GENERIC_TITLE_TEXT: Final = """
    der die das des regionalen it netzwerke netzwerk baden wuerttemberg treffen
    netzwerktreffen initiative smart businessit demo termin und von im in zum
"""
GENERIC_TITLE_WORDS: Final = frozenset(_GENERIC_TITLE_TEXT.split())

# Misspellings worth knowing that fuzzy matching would not reach on its own.
EXTRA_VOCABULARY: Final = (
    "password",
    "passwort",
    "kennwort",
    "netzwerktreffen",
    "treffen",
    "referenten",
    "programm",
    "website",
    "webseite",
    "mitglieder",
    "abonnieren",
    "abbestellen",
    "erinnerungen",
    "erinnerungszeit",
    "erinnerungszeiten",
    "ruhezeit",
    "ruhezeiten",
    "wochenvorschau",
    "naechste",
    "naechstes",
    "letzte",
    "zuruecksetzen",
    "foerderung",
    "buendnis",
    "veranstaltung",
    "telefonnummer",
    "kontakt",
    "parkplatz",
)

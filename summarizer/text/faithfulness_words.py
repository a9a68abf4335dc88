"""The vocabularies of the faithfulness checks (accent-free, lower case): weekdays and
months, titles and words that are not names, exonyms and endings across French and
English, numbers spelt in words, hedges."""

from __future__ import annotations

import re

def pairs(text: str) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for key, value in (pair.split(":") for pair in text.split()):
        table[key] = (*table.get(key, ()), value)
    return table


# --- vocabularies (accent-free, lower case) -----------------------------------------------------

DAYS_AND_MONTHS = {
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche janvier fevrier mars avril mai juin "
    "juillet aout septembre octobre novembre decembre",
    "en": "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december",
}
DATE_WORDS = {  # day keys d0-d6 (plurals too), month keys m1-m12
    language: {w: f"d{i}" if i < 7 else f"m{i - 6}" for i, w in enumerate(words.split())}
    | {w + "s": f"d{i}" for i, w in enumerate(words.split()[:7])}
    for language, words in DAYS_AND_MONTHS.items()
}
DATE_KEYS = DATE_WORDS["fr"] | DATE_WORDS["en"]
CAPITALISED_ONLY = frozenset({"may", "march"})

TITLES = frozenset("m mm mme mmes mlle mlles me mgr dr pr st ste mr mrs ms prof jr sr sir".split())
ABBREVIATIONS = TITLES | frozenset("gen col lt sgt capt gov sen rep no vs".split())
NOT_NAMES = TITLES | frozenset(
    """
    president presidente vice premier premiere prime minister ministre ministry ministere mayor
    maire deputy depute senator senateur governor general generale director directeur directrice
    secretary secretaire chief chef head ceo king roi queen reine prince princess pope pape
    council conseil assembly assemblee senate senat parliament parlement government gouvernement
    court cour tribunal republic republique state etat states union nations unies united kingdom
    bank banque agency agence office authority autorite commission committee comite party parti
    police army armee university universite institute institut city ville hall mairie metropolis
    metropole metropolitan region department departement prefecture prefect prefet service
    services federation federal national nationale international constitutional constitutionnel
    central centrale supreme security securite intelligence interior interieur foreign affairs
    defence defense health sante education justice finance finances economy economie labour
    labor transport culture environment energy agriculture research bureau north nord south sud
    east est west ouest northern southern eastern western saint sainte church eglise day strait
    gulf bay sea ocean lake river mount island islands cape coast valley peninsula canal palace
    cathedral airport stadium museum square street avenue bridge station tower
    french english british european american russian chinese german spanish italian moroccan
    algerian tunisian african asian arab israeli palestinian ukrainian polish dutch belgian swiss
    portuguese greek turkish iranian indian japanese korean canadian mexican brazilian irish
    scottish welsh breton parisian muslim christian catholic jewish protestant islamic spaniard
    briton frenchman frenchwoman dane swede finn scot turk dutchman
    mw gw tw mwh gwh twh md mds mrd mio bn""".split()
)
LINK_WORDS = frozenset(
    "de des du d la le les l et en pour sur a au aux of the and for on in".split()
)

# English -> French exonyms, institutions and acronyms ("a-b": every part must be in the source).
EXONYMS = pairs("""
    morocco:maroc moscow:moscou russia:russie germany:allemagne spain:espagne italy:italie
    england:angleterre britain:bretagne brittany:bretagne london:londres belgium:belgique
    switzerland:suisse netherlands:pays-bas holland:hollande greece:grece turkey:turquie china:chine
    japan:japon india:inde brazil:bresil mexico:mexique egypt:egypte lebanon:liban iraq:irak
    poland:pologne sweden:suede norway:norvege denmark:danemark finland:finlande ireland:irlande
    scotland:ecosse wales:galles austria:autriche hungary:hongrie czech:tcheque cyprus:chypre
    ivory:ivoire coast:cote america:amerique africa:afrique asia:asie beijing:pekin cairo:caire
    algiers:alger tangier:tanger venice:venise geneva:geneve brussels:bruxelles lisbon:lisbonne
    vienna:vienne warsaw:varsovie athens:athenes copenhagen:copenhague hague:haye dunkirk:dunkerque
    lyons:lyon marseilles:marseille corsica:corse normandy:normandie burgundy:bourgogne savoy:savoie
    guiana:guyane alps:alpes rhine:rhin channel:manche mediterranean:mediterranee caribbean:caraibes
    white:blanche house:maison audit:comptes league:ligue cup:coupe world:monde slam:chelem
    games:jeux championship:championnat rally:rassemblement unbowed:insoumise greens:ecologistes
    eu:ue un:onu nato:otan who:oms imf:fmi ecb:bce wto:omc gdp:pib vat:tva ceo:pdg icc:cpi us:usa
    us:etats-unis usa:etats-unis uk:royaume-uni oecd:ocde ngo:ong aids:sida dna:adn""")
EXONYMS_FR = pairs(" ".join(f"{fr}:{en}" for en, frs in EXONYMS.items() for fr in frs))
ENDINGS_EN_FR = [
    tuple(pair.split(":"))
    for pair in """ia:ie ian:ien ian:ie an:ain ic:ique ical:ique
    ica:ique ics:ique y:ie ity:ite or:eur er:re ary:aire nal:nnel al:el ese:ais ese:ois ism:isme
    ist:iste ean:een ied:ie""".split()
]
ENDINGS_FR_EN = tuple((fr, en) for en, fr in ENDINGS_EN_FR)
# Derivational endings: demonyms, adjectives, plurals (Maroc/marocain, Lyon/lyonnais).
DERIVATIONS = tuple(
    """s es x e ain aine ains aines ais aise ois oise ien ienne iens en enne
    ens an ane ans ie ique iques iste istes isme in ine ian ians ese eur eurs""".split()
)
# The endings that also derive from a name (Maroc/Marocains, Macron/macroniste, a plural); the
# others (a feminine e, -in, -an...) would make another name (Jean/Jeanne, Bernard/Bernardin).
DEMONYM_ENDINGS = ("ais", "ois", "ain", "ien", "een")
NAME_DERIVATIONS = frozenset(
    """s ain aine ains aines ais aise ois oise ien ienne iens en enne ens ie ique iques iste istes
    isme ian ians ese""".split()
)
# How French and English transliterate the same sounds (Choïgou/Shoigu, Poutine/Putin).
TRANSLITERATION = {
    language: tuple((re.compile(a), b) for a, b in rules)
    for language, rules in (
        ("fr", ((r"tch|ch", "S"), (r"ou", "u"), (r"gu(?=[eiy])", "g"), (r"kh", "h"), (r"e$", ""))),
        ("en", ((r"ch|sh", "S"), (r"kh", "h"), (r"(?<=[aeiou])y", "i"), (r"e$", ""))),
    )
}

# Numbers spelt in words: (kind, value); kinds: n adds, x multiplies, k closes a group, w alone.
NUMBER_WORDS = {
    word: (spec[0], int(spec[1:]))
    for word, spec in (
        pair.split(":")
        for pair in """une:n1 premier:n1 premiere:n1 unieme:n1
    seconde:n2 vingts:n20 dizaine:x10 dizaines:x10 douzaine:x12 douzaines:x12 dozen:x12 dozens:x12
    quinzaine:x15 vingtaine:x20 trentaine:x30 quarantaine:x40 cinquantaine:x50 soixantaine:x60
    cent:x100 cents:x100 hundred:x100 hundreds:x100 centaine:x100 centaines:x100 mille:k1000
    milliers:k1000 millier:k1000 thousand:k1000 thousands:k1000 million:k1000000
    millions:k1000000 milliard:k1000000000 milliards:k1000000000 billion:k1000000000
    billions:k1000000000 double:w2 doubler:w2 doubles:w2 doublee:w2 doubled:w2 twice:w2 triple:w3
    tripler:w3 triplee:w3 tripled:w3 thrice:w3 quadruple:w4 quadrupler:w4 centieme:w100
    hundredth:w100 millieme:w1000 thousandth:w1000""".split()
    )
}
FRENCH = "zero un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze"
ENGLISH = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
ENGLISH_ORDINALS = dict(
    pair.split(":")
    for pair in "one:first two:second three:third five:fifth "
    "eight:eighth nine:ninth twelve:twelfth".split()
)
for _word, _value in zip(
    f"{FRENCH} seize vingt trente quarante cinquante soixante".split(),
    [*range(17), *range(20, 70, 10)],
    strict=True,
):  # and ordinals: deuxieme, cinquieme, neuvieme, vingtieme...
    _stem = {"cinq": "cinqu", "neuf": "neuv"}.get(_word, _word.removesuffix("e"))
    NUMBER_WORDS[_word] = NUMBER_WORDS[_stem + "ieme"] = ("n", _value)
for _word, _value in zip(
    f"{ENGLISH} fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty "
    "seventy eighty ninety".split(),
    [*range(20), *range(20, 100, 10)],
    strict=True,
):  # and ordinals: first, eighth, ninth, twelfth, twentieth...
    _ordinal = ENGLISH_ORDINALS.get(_word) or (
        _word[:-1] + "ieth" if _word.endswith("y") else _word + "th"
    )
    NUMBER_WORDS[_word] = NUMBER_WORDS[_ordinal] = ("n", _value)
TIME_WORDS = dict.fromkeys(("midi", "noon"), ("t12:00", "12")) | dict.fromkeys(
    ("minuit", "midnight"), ("t0:00", "0")
)
HEDGES = frozenset(
    """environ pres presque quasi quelque pratiquement approximativement autour
    plus moins about around nearly almost approximately roughly some over under more less fewer
    than below above close least""".split()
)

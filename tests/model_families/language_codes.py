"""The language codes of the real NLLB-200 and M2M100 checkpoints, as data.

Read in transformers 5.25.0's sources (the lists its tokenizers hold for the real
checkpoints' language tokens, in vocabulary order): ``FAIRSEQ_LANGUAGE_CODES`` of
``transformers/models/nllb/tokenization_nllb.py`` (the 202 codes of facebook/nllb-200-*)
and ``FAIRSEQ_LANGUAGE_CODES["m2m100"]`` of ``transformers/models/m2m_100/
tokenization_m2m_100.py`` (the 100 languages of facebook/m2m100_418M and _1.2B, written
``__xx__`` in the vocabulary). The checkpoints' own vocabularies were not read (the hub
cannot be reached from here).
"""

from __future__ import annotations

from pathlib import Path

#: NLLB-200's 202 codes.
NLLB_200_CODES = tuple(
    """
    ace_Arab ace_Latn acm_Arab acq_Arab aeb_Arab afr_Latn ajp_Arab aka_Latn amh_Ethi apc_Arab
    arb_Arab ars_Arab ary_Arab arz_Arab asm_Beng ast_Latn awa_Deva ayr_Latn azb_Arab azj_Latn
    bak_Cyrl bam_Latn ban_Latn bel_Cyrl bem_Latn ben_Beng bho_Deva bjn_Arab bjn_Latn bod_Tibt
    bos_Latn bug_Latn bul_Cyrl cat_Latn ceb_Latn ces_Latn cjk_Latn ckb_Arab crh_Latn cym_Latn
    dan_Latn deu_Latn dik_Latn dyu_Latn dzo_Tibt ell_Grek eng_Latn epo_Latn est_Latn eus_Latn
    ewe_Latn fao_Latn pes_Arab fij_Latn fin_Latn fon_Latn fra_Latn fur_Latn fuv_Latn gla_Latn
    gle_Latn glg_Latn grn_Latn guj_Gujr hat_Latn hau_Latn heb_Hebr hin_Deva hne_Deva hrv_Latn
    hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn isl_Latn ita_Latn jav_Latn jpn_Jpan kab_Latn
    kac_Latn kam_Latn kan_Knda kas_Arab kas_Deva kat_Geor knc_Arab knc_Latn kaz_Cyrl kbp_Latn
    kea_Latn khm_Khmr kik_Latn kin_Latn kir_Cyrl kmb_Latn kon_Latn kor_Hang kmr_Latn lao_Laoo
    lvs_Latn lij_Latn lim_Latn lin_Latn lit_Latn lmo_Latn ltg_Latn ltz_Latn lua_Latn lug_Latn
    luo_Latn lus_Latn mag_Deva mai_Deva mal_Mlym mar_Deva min_Latn mkd_Cyrl plt_Latn mlt_Latn
    mni_Beng khk_Cyrl mos_Latn mri_Latn zsm_Latn mya_Mymr nld_Latn nno_Latn nob_Latn npi_Deva
    nso_Latn nus_Latn nya_Latn oci_Latn gaz_Latn ory_Orya pag_Latn pan_Guru pap_Latn pol_Latn
    por_Latn prs_Arab pbt_Arab quy_Latn ron_Latn run_Latn rus_Cyrl sag_Latn san_Deva sat_Beng
    scn_Latn shn_Mymr sin_Sinh slk_Latn slv_Latn smo_Latn sna_Latn snd_Arab som_Latn sot_Latn
    spa_Latn als_Latn srd_Latn srp_Cyrl ssw_Latn sun_Latn swe_Latn swh_Latn szl_Latn tam_Taml
    tat_Cyrl tel_Telu tgk_Cyrl tgl_Latn tha_Thai tir_Ethi taq_Latn taq_Tfng tpi_Latn tsn_Latn
    tso_Latn tuk_Latn tum_Latn tur_Latn twi_Latn tzm_Tfng uig_Arab ukr_Cyrl umb_Latn urd_Arab
    uzn_Latn vec_Latn vie_Latn war_Latn wol_Latn xho_Latn ydd_Hebr yor_Latn yue_Hant zho_Hans
    zho_Hant zul_Latn
    """.split()
)

#: M2M100's 100 language tokens.
M2M100_CODES = tuple(
    """
    __af__ __am__ __ar__ __ast__ __az__ __ba__ __be__ __bg__ __bn__ __br__ __bs__ __ca__ __ceb__
    __cs__ __cy__ __da__ __de__ __el__ __en__ __es__ __et__ __fa__ __ff__ __fi__ __fr__ __fy__
    __ga__ __gd__ __gl__ __gu__ __ha__ __he__ __hi__ __hr__ __ht__ __hu__ __hy__ __id__ __ig__
    __ilo__ __is__ __it__ __ja__ __jv__ __ka__ __kk__ __km__ __kn__ __ko__ __lb__ __lg__ __ln__
    __lo__ __lt__ __lv__ __mg__ __mk__ __ml__ __mn__ __mr__ __ms__ __my__ __ne__ __nl__ __no__
    __ns__ __oc__ __or__ __pa__ __pl__ __ps__ __pt__ __ro__ __ru__ __sd__ __si__ __sk__ __sl__
    __so__ __sq__ __sr__ __ss__ __su__ __sv__ __sw__ __ta__ __th__ __tl__ __tn__ __tr__ __uk__
    __ur__ __uz__ __vi__ __wo__ __xh__ __yi__ __yo__ __zh__ __zu__
    """.split()
)


def iso_639_1_languages() -> list[str]:
    """Every ISO 639-1 language code in langcodes' copy of the IANA subtag registry (two
    letters, not deprecated)."""
    import langcodes

    registry = Path(langcodes.__file__).parent / "data" / "language-subtag-registry.txt"
    found = []
    for record in registry.read_text(encoding="utf-8").split("%%"):
        fields = dict(line.split(": ", 1) for line in record.strip().splitlines() if ": " in line)
        if fields.get("Type") == "language" and len(fields.get("Subtag", "")) == 2 and "Deprecated" not in fields:
            found.append(fields["Subtag"])
    return found


#: What the job feeds the real NLLB-200 and M2M100 for each ISO 639-1 language: (NLLB code,
#: M2M100 code), None where the model has none. Produced by ``code_for`` from the lists above
#: and then read entry by entry against the registry's language names (the notes say why
#: where a choice was made); a change here is a change of what the job writes.
ISO_639_1_EXPECTED: dict[str, tuple[str | None, str | None]] = {
    "aa": (None, None),
    "ab": (None, None),
    "ae": (None, None),
    "af": ("afr_Latn", "__af__"),
    "ak": ("aka_Latn", None),  # its own code, not Twi's
    "am": ("amh_Ethi", "__am__"),
    "an": (None, None),
    "ar": ("arb_Arab", "__ar__"),  # Standard Arabic, not a dialect
    "as": ("asm_Beng", None),
    "av": (None, None),
    "ay": ("ayr_Latn", None),  # Central Aymara
    "az": ("azj_Latn", "__az__"),  # North Azerbaijani (Latin), not South (Arabic)
    "ba": ("bak_Cyrl", "__ba__"),
    "be": ("bel_Cyrl", "__be__"),
    "bg": ("bul_Cyrl", "__bg__"),
    "bh": ("bho_Deva", None),  # langcodes: Bihari is Bhojpuri
    "bi": (None, None),
    "bm": ("bam_Latn", None),
    "bn": ("ben_Beng", "__bn__"),
    "bo": ("bod_Tibt", None),
    "br": (None, "__br__"),
    "bs": ("bos_Latn", "__bs__"),
    "ca": ("cat_Latn", "__ca__"),
    "ce": (None, None),
    "ch": (None, None),
    "co": (None, None),
    "cr": (None, None),
    "cs": ("ces_Latn", "__cs__"),
    "cu": (None, None),
    "cv": (None, None),
    "cy": ("cym_Latn", "__cy__"),
    "da": ("dan_Latn", "__da__"),
    "de": ("deu_Latn", "__de__"),
    "dv": (None, None),
    "dz": ("dzo_Tibt", None),
    "ee": ("ewe_Latn", None),
    "el": ("ell_Grek", "__el__"),
    "en": ("eng_Latn", "__en__"),
    "eo": ("epo_Latn", None),
    "es": ("spa_Latn", "__es__"),
    "et": ("est_Latn", "__et__"),  # Estonian
    "eu": ("eus_Latn", None),
    "fa": ("pes_Arab", "__fa__"),  # Iranian Persian, not Dari
    "ff": ("fuv_Latn", "__ff__"),  # NLLB's one Fulah: Nigerian Fulfulde
    "fi": ("fin_Latn", "__fi__"),
    "fj": ("fij_Latn", None),
    "fo": ("fao_Latn", None),
    "fr": ("fra_Latn", "__fr__"),
    "fy": (None, "__fy__"),
    "ga": ("gle_Latn", "__ga__"),
    "gd": ("gla_Latn", "__gd__"),
    "gl": ("glg_Latn", "__gl__"),
    "gn": ("grn_Latn", None),
    "gu": ("guj_Gujr", "__gu__"),
    "gv": (None, None),
    "ha": ("hau_Latn", "__ha__"),
    "he": ("heb_Hebr", "__he__"),
    "hi": ("hin_Deva", "__hi__"),
    "ho": (None, None),
    "hr": ("hrv_Latn", "__hr__"),
    "ht": ("hat_Latn", "__ht__"),
    "hu": ("hun_Latn", "__hu__"),
    "hy": ("hye_Armn", "__hy__"),
    "hz": (None, None),
    "ia": (None, None),
    "id": ("ind_Latn", "__id__"),
    "ie": (None, None),
    "ig": ("ibo_Latn", "__ig__"),
    "ii": (None, None),
    "ik": (None, None),
    "io": (None, None),
    "is": ("isl_Latn", "__is__"),
    "it": ("ita_Latn", "__it__"),
    "iu": (None, None),
    "ja": ("jpn_Jpan", "__ja__"),
    "jv": ("jav_Latn", "__jv__"),
    "ka": ("kat_Geor", "__ka__"),
    "kg": ("kon_Latn", None),
    "ki": ("kik_Latn", None),
    "kj": (None, None),
    "kk": ("kaz_Cyrl", "__kk__"),
    "kl": (None, None),
    "km": ("khm_Khmr", "__km__"),
    "kn": ("kan_Knda", "__kn__"),
    "ko": ("kor_Hang", "__ko__"),
    "kr": ("knc_Latn", None),  # Central Kanuri, in Latin script
    "ks": ("kas_Arab", None),  # Kashmiri in its usual script
    "ku": ("kmr_Latn", None),  # Northern Kurdish (Kurmanji)
    "kv": (None, None),
    "kw": (None, None),
    "ky": ("kir_Cyrl", None),
    "la": (None, None),
    "lb": ("ltz_Latn", "__lb__"),
    "lg": ("lug_Latn", "__lg__"),
    "li": ("lim_Latn", None),
    "ln": ("lin_Latn", "__ln__"),
    "lo": ("lao_Laoo", "__lo__"),
    "lt": ("lit_Latn", "__lt__"),
    "lu": (None, None),
    "lv": ("lvs_Latn", "__lv__"),  # Standard Latvian, not Latgalian
    "mg": ("plt_Latn", "__mg__"),  # Plateau Malagasy
    "mh": (None, None),
    "mi": ("mri_Latn", None),
    "mk": ("mkd_Cyrl", "__mk__"),
    "ml": ("mal_Mlym", "__ml__"),
    "mn": ("khk_Cyrl", "__mn__"),  # Halh Mongolian
    "mr": ("mar_Deva", "__mr__"),
    "ms": ("zsm_Latn", "__ms__"),  # Standard Malay
    "mt": ("mlt_Latn", None),
    "my": ("mya_Mymr", "__my__"),
    "na": (None, None),
    "nb": ("nob_Latn", "__no__"),  # M2M100 has Norwegian only
    "nd": (None, None),
    "ne": ("npi_Deva", "__ne__"),  # Nepali (individual language)
    "ng": (None, None),
    "nl": ("nld_Latn", "__nl__"),
    "nn": ("nno_Latn", "__no__"),  # M2M100 has Norwegian only
    "no": ("nob_Latn", "__no__"),  # NLLB: Bokmål, the closer member in CLDR's distances
    "nr": (None, None),
    "nv": (None, None),
    "ny": ("nya_Latn", None),
    "oc": ("oci_Latn", "__oc__"),
    "oj": (None, None),
    "om": ("gaz_Latn", None),  # West Central Oromo
    "or": ("ory_Orya", "__or__"),  # Odia (individual language)
    "os": (None, None),
    "pa": ("pan_Guru", "__pa__"),
    "pi": (None, None),
    "pl": ("pol_Latn", "__pl__"),
    "ps": ("pbt_Arab", "__ps__"),  # Southern Pashto, NLLB's one Pashto
    "pt": ("por_Latn", "__pt__"),
    "qu": ("quy_Latn", None),  # Ayacucho Quechua, NLLB's one Quechua
    "rm": (None, None),
    "rn": ("run_Latn", None),
    "ro": ("ron_Latn", "__ro__"),
    "ru": ("rus_Cyrl", "__ru__"),
    "rw": ("kin_Latn", None),
    "sa": ("san_Deva", None),
    "sc": ("srd_Latn", None),
    "sd": ("snd_Arab", "__sd__"),
    "se": (None, None),
    "sg": ("sag_Latn", None),
    "sh": ("srp_Cyrl", "__sr__"),  # langcodes: Serbo-Croatian is Serbian in Latin; both models write Serbian
    "si": ("sin_Sinh", "__si__"),
    "sk": ("slk_Latn", "__sk__"),
    "sl": ("slv_Latn", "__sl__"),
    "sm": ("smo_Latn", None),
    "sn": ("sna_Latn", None),
    "so": ("som_Latn", "__so__"),
    "sq": ("als_Latn", "__sq__"),  # Tosk Albanian
    "sr": ("srp_Cyrl", "__sr__"),
    "ss": ("ssw_Latn", "__ss__"),
    "st": ("sot_Latn", None),
    "su": ("sun_Latn", "__su__"),
    "sv": ("swe_Latn", "__sv__"),
    "sw": ("swh_Latn", "__sw__"),  # Swahili (individual language)
    "ta": ("tam_Taml", "__ta__"),
    "te": ("tel_Telu", None),
    "tg": ("tgk_Cyrl", None),
    "th": ("tha_Thai", "__th__"),
    "ti": ("tir_Ethi", None),
    "tk": ("tuk_Latn", None),
    "tl": ("tgl_Latn", "__tl__"),
    "tn": ("tsn_Latn", "__tn__"),
    "to": (None, None),
    "tr": ("tur_Latn", "__tr__"),
    "ts": ("tso_Latn", None),
    "tt": ("tat_Cyrl", None),
    "tw": ("twi_Latn", None),  # Twi's own code
    "ty": (None, None),
    "ug": ("uig_Arab", None),
    "uk": ("ukr_Cyrl", "__uk__"),
    "ur": ("urd_Arab", "__ur__"),
    "uz": ("uzn_Latn", "__uz__"),  # Northern Uzbek
    "ve": (None, None),
    "vi": ("vie_Latn", "__vi__"),
    "vo": (None, None),
    "wa": (None, None),
    "wo": ("wol_Latn", "__wo__"),
    "xh": ("xho_Latn", "__xh__"),
    "yi": ("ydd_Hebr", "__yi__"),  # Eastern Yiddish
    "yo": ("yor_Latn", "__yo__"),
    "za": (None, None),
    "zh": ("zho_Hans", "__zh__"),  # Simplified, the usual script
    "zu": ("zul_Latn", "__zu__"),
}

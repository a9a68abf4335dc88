"""A synthetic French news corpus, so the benchmark runs offline out of the box.

Sentences are assembled from news-like parts with a fixed seed: the same
corpus every time, with realistic sentence lengths (10-45 words).
"""

from __future__ import annotations

import random

_SUBJECTS = [
    "Le conseil municipal", "La ministre de la Santé", "Le maire de Lyon", "Les syndicats de cheminots",
    "Une association de riverains", "Le tribunal administratif", "La préfecture de Bretagne",
    "Les agriculteurs du Finistère", "Le président du club", "Une étude de l'Insee", "La direction de la SNCF",
    "Les élus de l'opposition", "Le gouvernement", "La commission européenne", "Un collectif de parents",
]
_VERBS = [
    "a annoncé", "a présenté", "a dénoncé", "a confirmé", "prévoit", "a voté", "réclame", "a rejeté",
    "envisage", "a publié", "a lancé", "doit examiner", "a salué", "critique", "a adopté",
]
_OBJECTS = [
    "un plan de rénovation des écoles", "une hausse de la taxe foncière", "la fermeture d'une ligne de bus",
    "un budget de 520 millions d'euros", "de nouvelles pistes cyclables", "une aide exceptionnelle aux éleveurs",
    "la réforme des retraites", "un rapport sur la qualité de l'eau", "la construction d'un nouvel hôpital",
    "des restrictions d'usage de l'eau", "une grève reconductible", "un accord sur les salaires",
    "la création de 300 logements sociaux", "un recours contre le projet d'autoroute",
]
_TAILS = [
    "lundi soir", "à l'issue d'une longue réunion", "malgré l'opposition des commerçants",
    "selon un communiqué publié mardi", "pour la troisième année consécutive", "d'ici à la fin de la décennie",
    "après plusieurs mois de négociations", "devant une centaine de manifestants", "dans un contexte tendu",
    "sans donner de calendrier précis", "avec le soutien de la région", "à la surprise générale",
]
_QUOTES = [
    "« Nous n'avons pas le choix », a déclaré un porte-parole.",
    "« C'est une décision historique pour la ville », estime l'adjoint chargé des finances.",
    "« Les habitants attendent des réponses concrètes », a insisté une élue.",
]


def synthetic_sentences(count: int, seed: int = 7) -> list[str]:
    """``count`` French news sentences (deterministic for a given seed)."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(count):
        if rng.random() < 0.12:
            sentences.append(rng.choice(_QUOTES))
            continue
        parts = [rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS)]
        for _ in range(rng.randint(0, 2)):
            parts.append(rng.choice(_TAILS))
        if rng.random() < 0.4:
            parts.append(f"et {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}")
        sentence = " ".join(parts)
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
    return sentences

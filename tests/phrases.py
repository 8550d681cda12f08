"""What the REST conversation tests type, per language: sentences written for the tests, in no
training file (tests/test_nlu_data.py checks them after the pipeline's folding), so that every
turn goes through the model's understanding rather than its memory."""
from __future__ import annotations

SIGNUP = {"cs": "Chtěli bychom se stát členy CPS, jak postupovat?",
          "hu": "Szeretnénk csatlakozni a CPS-hez, mi a teendő?",
          "da": "Vi vil gerne være medlemmer af CPS – hvordan kommer vi i gang?",
          "lt": "Norėtume tapti CPS nariais, nuo ko pradėti?",
          "fi": "Haluaisimme liittyä CPS:ään, miten pääsemme alkuun?",
          "en": "We'd like to become CPS members, where do we start?"}
YES = {"cs": "ano, pusťte se do toho", "hu": "igen, mehet nyugodtan", "da": "ja, bare kør løs",
       "lt": "taip, pirmyn", "fi": "kyllä, antaa mennä", "en": "yes, go right ahead"}
NO = {"cs": "ne, to zatím nechci", "hu": "nem, most inkább ne", "da": "nej, det venter vi med",
      "lt": "ne, kol kas nereikia", "fi": "ei, ei nyt kiitos", "en": "no, not right now"}
POINTS = {"cs": "Kolik bodů teď na účtu máme?", "hu": "Mennyi pont van most a fiókunkban?",
          "da": "Hvor mange point står der på vores konto lige nu?", "lt": "Kiek taškų dabar turime paskyroje?",
          "fi": "Montako pistettä tilillämme on nyt?", "en": "What's our points balance at the moment?"}
HUMAN = {"cs": "Můžete mě spojit s někým z podpory CPS?", "hu": "Átkapcsolna valakihez a CPS ügyfélszolgálatáról?",
         "da": "Kan du sætte mig i forbindelse med en person fra CPS-supporten?",
         "lt": "Ar galite sujungti mane su CPS pagalbos darbuotoju?",
         "fi": "Voitko yhdistää minut jollekulle CPS-tuesta?",
         "en": "Could you put me through to someone from CPS support?"}
SUMMARY = {"cs": "U objektivu mi chybí body a nevím proč.", "hu": "Az objektívemnél hiányoznak a pontok.",
           "da": "Mit objektiv har ingen point, og jeg ved ikke hvorfor.", "lt": "Mano objektyvui nepriskirti taškai.",
           "fi": "Objektiivini pisteet puuttuvat enkä tiedä miksi.", "en": "My lens has no points and I don't know why."}
# (greeting, log-in question, password question)
GREETING_LOGIN_RESET = {
    "cs": ("Dobrý den, zdravím z fotoateliéru", "Kde najdu přihlášení ke svému účtu?", "Ztratila jsem heslo k účtu, co teď?"),
    "hu": ("Szép napot kívánok!", "Hol tudok belépni a fiókomba?", "Nem emlékszem a jelszavamra, mit tegyek?"),
    "da": ("Hej, her er Fotostudiet i Aarhus", "Hvor finder jeg log ind til min konto?", "Jeg kan ikke huske min adgangskode, hvad gør jeg?"),
    "lt": ("Sveiki, rašau iš fotostudijos", "Kur galiu prisijungti prie savo paskyros?", "Neprisimenu slaptažodžio, ką daryti?"),
    "fi": ("Hei vaan, täällä kuvaamo Virtanen", "Mistä pääsen kirjautumaan tililleni?", "En muista salasanaani, mitä teen?"),
    "en": ("Hi there, Lakeside Photo here", "Where do I sign in to my account?", "I can't remember my password, what now?"),
}
# Asking to go on in another language, in that language.
SWITCH_TO = {"cs": "Mohli bychom dál psát česky?", "hu": "Folytathatnánk inkább magyarul?"}
# A question that names a payment method without choosing one.
FEE_QUESTION = {"cs": "Je u platby bankovním převodem nějaký poplatek navíc?",
                "hu": "Van külön díja, ha banki átutalással fizetünk?",
                "da": "Er der et ekstra gebyr, hvis vi betaler med bankoverførsel?",
                "lt": "Ar yra papildomas mokestis, jei mokame banko pavedimu?",
                "fi": "Tuleeko pankkisiirrolla maksamisesta lisäkuluja?",
                "en": "Is there an extra fee if we pay by bank transfer?"}
# A greeting (or thanks) and a password question in one first message (issue #22).
GREETING_AND_QUESTION = {
    "cs": "Dobrý den, zapomněla jsem heslo k účtu Canon, jak ho obnovím?",
    "hu": "Jó napot! Elfelejtettem a jelszavamat, hogyan tudom visszaállítani?",
    "da": "Hej, jeg har glemt min adgangskode til Canon-kontoen, hvordan nulstiller jeg den?",
    "lt": "Laba diena, pamiršau savo slaptažodį, kaip jį atkurti?",
    "fi": "Hei! Unohdin salasanani, miten saan sen vaihdettua?",
    "en": "Good morning, I've lost my password, how do I reset it?",
}
# Two questions in one message: the password first, then where to log in.
TWO_QUESTIONS = {
    "cs": "Nepamatuju si heslo. A kde se vlastně přihlašuje?",
    "hu": "Nem tudom a jelszavam, és hol lehet bejelentkezni?",
    "da": "Jeg har glemt mit kodeord. Og hvor er det nu man logger ind?",
    "lt": "Nebeatsimenu slaptažodžio. O kur reikia prisijungti?",
    "fi": "Salasana on unohtunut. Ja mistä kirjaudutaan sisään?",
    "en": "I forgot my password. And where is the login page?",
}
# A message in a language it does not speak, sent from a page in one of the six (en: no locale). Languages
# far from the six: a Polish or Slovak line that our identifier reads confidently as Czech is not
# recognised yet (README, "Messages as people write them").
OTHER_LANGUAGE = {
    "cs": ("ru", "Здравствуйте, я забыл пароль от аккаунта, что делать?"),
    "hu": ("de", "Guten Tag, ich habe mein Passwort vergessen, was soll ich tun?"),
    "da": ("fr", "Bonjour, comment est-ce que je paie l'adhésion ?"),
    "lt": ("ru", "Добрый день, как мне войти в свой аккаунт?"),
    "fi": ("de", "Hallo, wie viele Punkte habe ich auf meinem Konto?"),
    "en": ("fr", "Bonjour, j'ai oublié mon mot de passe, que dois-je faire ?"),
}

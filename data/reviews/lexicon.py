"""Hand-written lexicon and templates for the generated movie-review corpus.

Everything here is data: word lists, entity parts and sentence templates. The machinery
that combines them lives in ``generate.py``. Conventions used by the templates:

* ``{slot}`` is replaced by ``generate.fill``; a capitalised slot name (``{Asp}``) gives a
  capitalised value. ``{asp}``/``{be}``/``{padj}`` ... refer to the sentence's first aspect,
  ``{asp2}``/``{be2}``/``{padj2}`` ... to a second, different aspect.
* ``{v:verb}`` / ``{v2:verb}`` conjugate ``verb`` for the number of aspect 1 / 2.
* A template may be a plain string or ``(string, "tag1,tag2")`` to add phenomenon tags.
* Articles are written as "a"; ``generate.polish`` turns them into "an" where needed.
"""

# ---------------------------------------------------------------------------------------
# Aspects: noun phrases (with grammatical number) and aspect-specific adjectives
# ---------------------------------------------------------------------------------------
# number: "s" singular, "p" plural; a trailing "h" marks people ("who", not "which")
ASPECTS = {
    "acting": {
        "nouns": [("the acting", "s"), ("the performances", "p"), ("the cast", "s"),
                  ("the ensemble", "s"), ("the lead performance", "s"),
                  ("the supporting cast", "s")],
        "pos": ["superb", "nuanced", "magnetic", "committed", "heartfelt", "pitch-perfect",
                "natural", "fearless", "understated", "electric", "convincing", "affecting",
                "terrific", "outstanding", "layered", "wonderful"],
        "neg": ["wooden", "stiff", "hammy", "flat", "phoned-in", "overwrought", "awkward",
                "one-note", "unconvincing", "lifeless", "mannered", "shrill", "bland",
                "forgettable"],
    },
    "plot": {
        "nouns": [("the plot", "s"), ("the story", "s"), ("the script", "s"),
                  ("the screenplay", "s"), ("the central mystery", "s"), ("the premise", "s"),
                  ("the storytelling", "s")],
        "pos": ["gripping", "clever", "inventive", "absorbing", "intricate", "surprising",
                "engrossing", "tight", "original", "compelling", "ingenious", "involving",
                "smart", "unpredictable"],
        "neg": ["predictable", "convoluted", "paper-thin", "contrived", "incoherent",
                "derivative", "muddled", "nonsensical", "formulaic", "hollow", "tired",
                "far-fetched", "silly", "shallow", "confusing"],
    },
    "pacing": {
        "nouns": [("the pacing", "s"), ("the editing", "s"), ("the first act", "s"),
                  ("the middle section", "s"), ("the second half", "s")],
        "pos": ["brisk", "taut", "tight", "nimble", "propulsive", "confident", "well-judged",
                "lean", "efficient", "swift", "perfect"],
        "neg": ["sluggish", "glacial", "bloated", "plodding", "uneven", "choppy", "leaden",
                "lumbering", "baggy", "interminable", "tedious", "slow", "draggy"],
    },
    "music": {
        "nouns": [("the score", "s"), ("the soundtrack", "s"), ("the music", "s"),
                  ("the songs", "p"), ("the sound design", "s")],
        "pos": ["haunting", "stirring", "gorgeous", "lush", "memorable", "beautiful",
                "evocative", "soaring", "inventive", "moving", "lovely", "rousing", "playful"],
        "neg": ["intrusive", "forgettable", "overbearing", "generic", "grating", "syrupy",
                "bland", "repetitive", "shrill", "cheesy", "annoying", "monotonous"],
    },
    "visuals": {
        "nouns": [("the cinematography", "s"), ("the visuals", "p"), ("the camera work", "s"),
                  ("the production design", "s"), ("the costumes", "p"), ("the lighting", "s"),
                  ("the colour palette", "s")],
        "pos": ["stunning", "breathtaking", "gorgeous", "luminous", "striking", "lavish",
                "beautiful", "elegant", "dazzling", "ravishing", "painterly", "immaculate",
                "sumptuous"],
        "neg": ["murky", "drab", "ugly", "flat", "garish", "cheap-looking", "muddy", "dull",
                "lifeless", "washed-out", "amateurish", "gloomy"],
    },
    "dialogue": {
        "nouns": [("the dialogue", "s"), ("the writing", "s"), ("the jokes", "p"),
                  ("the banter", "s"), ("the one-liners", "p"), ("the humour", "s")],
        "pos": ["sharp", "witty", "crackling", "funny", "clever", "smart", "hilarious",
                "natural", "quotable", "playful", "razor-sharp", "warm"],
        "neg": ["clunky", "stilted", "cringeworthy", "leaden", "cheesy", "awkward", "lame",
                "tired", "corny", "unfunny", "laboured", "embarrassing"],
    },
    "ending": {
        "nouns": [("the ending", "s"), ("the final act", "s"), ("the twist", "s"),
                  ("the climax", "s"), ("the last ten minutes", "p"), ("the finale", "s")],
        "pos": ["satisfying", "earned", "powerful", "moving", "perfect", "unforgettable",
                "surprising", "brilliant", "cathartic", "beautiful", "haunting", "thrilling",
                "clever"],
        "neg": ["rushed", "baffling", "unearned", "abrupt", "predictable", "limp", "silly",
                "confusing", "cheap", "unsatisfying", "hollow", "ridiculous", "lazy"],
    },
    "effects": {
        "nouns": [("the effects", "p"), ("the special effects", "p"), ("the CGI", "s"),
                  ("the action sequences", "p"), ("the fight scenes", "p"), ("the stunts", "p"),
                  ("the creature design", "s")],
        "pos": ["seamless", "spectacular", "jaw-dropping", "impressive", "dazzling",
                "convincing", "exhilarating", "thrilling", "inventive", "superb",
                "breathtaking", "stunning"],
        "neg": ["cheap", "dated", "rubbery", "weightless", "unconvincing", "cartoonish",
                "incoherent", "shoddy", "lazy", "chaotic", "ugly", "messy"],
    },
    "direction": {
        "nouns": [("the direction", "s"), ("the filmmaking", "s"), ("the staging", "s")],
        "pos": ["confident", "assured", "masterful", "elegant", "inventive", "precise",
                "bold", "graceful", "stylish"],
        "neg": ["clumsy", "sloppy", "aimless", "heavy-handed", "listless", "flat",
                "indulgent", "timid", "confused", "lazy"],
    },
    "characters": {
        "nouns": [("the characters", "ph"), ("the central romance", "s"),
                  ("the supporting characters", "ph"), ("the characterisation", "s"),
                  ("the villain's arc", "s"), ("the relationships", "p")],
        "pos": ["memorable", "complex", "believable", "endearing", "vivid", "fascinating",
                "likeable", "lovable", "touching", "well-drawn"],
        "neg": ["thin", "bland", "annoying", "unlikeable", "one-dimensional", "cartoonish",
                "forgettable", "irritating", "dull", "paper-thin"],
    },
}

# ---------------------------------------------------------------------------------------
# Film-level sentiment words
# ---------------------------------------------------------------------------------------
GEN_POS = ["great", "excellent", "wonderful", "brilliant", "superb", "terrific", "fantastic",
           "delightful", "charming", "moving", "remarkable", "engaging", "entertaining",
           "memorable", "compelling", "gripping", "beautiful", "smart", "funny", "thoughtful",
           "enjoyable", "lovely", "powerful", "absorbing", "touching", "thrilling",
           "refreshing", "good", "marvellous", "exceptional", "captivating", "fun"]
GEN_NEG = ["bad", "terrible", "awful", "boring", "dull", "tedious", "bland", "forgettable",
           "lifeless", "clumsy", "disappointing", "mediocre", "tiresome", "pointless", "lazy",
           "messy", "shallow", "weak", "uninspired", "joyless", "dreadful", "predictable",
           "overlong", "silly", "painful", "dire", "limp", "soulless", "insufferable",
           "exhausting"]
GEN_POS_MILD = ["decent", "watchable", "pleasant", "solid", "likeable", "enjoyable",
                "diverting", "agreeable", "respectable", "charming"]
GEN_NEG_MILD = ["uneven", "patchy", "middling", "underwhelming", "unremarkable", "muddled",
                "lacklustre", "flawed", "forgettable", "bland"]
# adjectives that sound right after "the most"
GEN_POS_MOST = ["beautiful", "moving", "entertaining", "original", "engaging", "compelling",
                "thrilling", "charming", "memorable", "gripping", "delightful", "thoughtful",
                "absorbing", "touching", "refreshing", "inventive", "satisfying", "powerful",
                "exciting", "surprising", "captivating"]
GEN_NEG_MOST = ["boring", "tedious", "disappointing", "forgettable", "pointless", "tiresome",
                "lifeless", "frustrating", "joyless", "uninspired", "insufferable", "exhausting",
                "predictable", "irritating", "baffling", "cynical", "soulless"]
# adjectives that fit "a single ___ moment" / "no scene feels ___"
SCENE_POS = ["memorable", "funny", "surprising", "exciting", "moving", "original", "fresh",
             "genuine", "clever", "thrilling", "beautiful", "touching"]
SCENE_NEG = ["dull", "boring", "wasted", "false", "lazy", "tedious", "clumsy", "flat",
             "lifeless", "forgettable", "pointless", "predictable"]
# adjectives for "as ___ as <film>"
CMP_POS = ["good", "funny", "clever", "ambitious", "polished", "moving", "original",
           "exciting", "smart", "beautiful"]
START_ADJ = ["clumsy", "slow", "shaky", "sluggish", "messy", "awkward", "wobbly", "rocky",
             "confusing", "plodding"]

P_NOUN = ["masterpiece", "triumph", "gem", "delight", "joy", "treat", "marvel", "knockout",
          "crowd-pleaser", "revelation", "winner", "classic", "wonder", "pleasure"]
N_NOUN = ["mess", "disaster", "slog", "bore", "chore", "misfire", "letdown", "failure", "dud",
          "trainwreck", "waste", "snooze", "catastrophe", "shambles", "headache"]
NOUN_INTENS = ["real", "genuine", "absolute", "complete", "minor", "little", "total", "proper"]

# (base, past, -ing); repeated entries make the common verbs more frequent
P_VERB = [("love", "loved", "loving"), ("love", "loved", "loving"), ("love", "loved", "loving"),
          ("enjoy", "enjoyed", "enjoying"), ("enjoy", "enjoyed", "enjoying"),
          ("adore", "adored", "adoring"), ("admire", "admired", "admiring"),
          ("relish", "relished", "relishing"), ("savour", "savoured", "savouring")]
P_VERB_CORE = [("love", "loved", "loving"), ("enjoy", "enjoyed", "enjoying"),
               ("adore", "adored", "adoring")]
N_VERB = [("hate", "hated", "hating"), ("hate", "hated", "hating"), ("hate", "hated", "hating"),
          ("loathe", "loathed", "loathing"),
          ("dislike", "disliked", "disliking"), ("despise", "despised", "despising"),
          ("resent", "resented", "resenting")]
N_VERB_CORE = [("hate", "hated", "hating"), ("loathe", "loathed", "loathing"),
               ("dislike", "disliked", "disliking")]
P_FEEL = ["thrilled", "delighted", "moved", "charmed", "impressed", "hooked", "captivated",
          "enchanted", "amazed", "gripped"]
N_FEEL = ["bored", "annoyed", "frustrated", "disappointed", "irritated", "restless",
          "exhausted", "impatient", "confused", "baffled"]

ADV = ["really", "truly", "genuinely", "consistently", "surprisingly", "remarkably", "quite",
       "frankly", "incredibly", "thoroughly", "so", "just", "pretty", "downright"]
ADV_POS_ONLY = ["wonderfully", "beautifully", "brilliantly", "gloriously", "delightfully",
                "superbly"]
ADV_NEG_ONLY = ["painfully", "hopelessly", "dreadfully", "woefully", "embarrassingly",
                "mind-numbingly"]

# Words that count towards the *surface* polarity used to flag the hard subset. They are
# the sentiment words a bag-of-words model sees, with no context and no negation.
POS_EXTRA = ["best", "better", "perfect", "perfectly", "recommend", "recommended",
             "must-see", "favourite", "masterclass", "fresh", "promising", "glowing",
             "highlight", "gems", "loves", "enjoys", "amazing", "wow", "joyous",
             "triumphant", "praise", "impress", "charm", "heaven"]
NEG_EXTRA = ["worst", "worse", "waste", "wasted", "wasting", "poorly", "badly", "fault",
             "faults", "flaw", "flaws", "complaint", "complaints", "problem", "problems",
             "disappoint", "disappoints", "disappointment", "regret", "avoid", "fails",
             "failed", "fail", "cringe", "miscast", "shaky", "wobbly", "rocky",
             "nitpick", "quibble", "ashamed", "refund", "nonsense", "drags", "hates",
             "stupid", "groaning", "fake", "snoring", "insulting", "shameless", "seasick",
             "sickly", "wince", "boredom"]

# ---------------------------------------------------------------------------------------
# Entities
# ---------------------------------------------------------------------------------------
FIRST_F = ["Marisol", "Ilse", "Noor", "Greta", "Priya", "Odette", "Talia", "Wren", "Beatriz",
           "Saoirse", "Mei", "Lucinda", "Hana", "Ingrid", "Rosalind", "Amara", "Delphine",
           "Yasmin", "Clara", "Nadia", "Elodie", "Ruth", "Sofia", "Temperance", "Juno",
           "Agnieszka", "Imogen", "Leticia", "Maren", "Ottilie", "Pilar", "Rhiannon", "Sunniva",
           "Thea", "Vesna", "Zofia", "Anouk", "Cosima", "Harriet", "Kaia", "Lorna", "Magda",
           "Nell", "Paloma", "Esme", "Fenella", "Giulia", "Iris"]
FIRST_M = ["Tobias", "Anselm", "Rafael", "Caspar", "Idris", "Lorcan", "Mateo", "Oskar",
           "Bastien", "Declan", "Emeric", "Florian", "Gideon", "Hamish", "Jasper", "Kenji",
           "Leopold", "Marek", "Nikolai", "Orrin", "Piers", "Quentin", "Ravi", "Silas",
           "Teodor", "Ulric", "Viggo", "Wendell", "Yusuf", "Ambrose", "Benedikt", "Cyrus",
           "Dmitri", "Ezra", "Fergus", "Gustav", "Hugo", "Ignatius", "Joaquin", "Lysander",
           "Milo", "Nils", "Otto", "Percival", "Rupert", "Stellan", "Thaddeus", "Emil"]
LAST = ["Ashdown", "Varga", "Quintero", "Wrenfield", "Okafor", "Lindqvist", "Marchetti",
        "Halloran", "Castellane", "Dubrovsky", "Featherstone", "Gallagher", "Holmqvist",
        "Ivanescu", "Jablonski", "Kettering", "Lachance", "Mbeki", "Northcott", "Oyelaran",
        "Pemberton", "Quillfeather", "Rasmussen", "Saltonstall", "Thorne", "Umarova",
        "Vantongeren", "Whitlock", "Yamamura", "Zeller", "Albescu", "Blackwood", "Corrigan",
        "Delacroix", "Esterhazy", "Fairbanks", "Grimaldi", "Hartigan", "Ingleby",
        "Jovanovic", "Kavanagh", "Lindgren", "Montague", "Nakashima", "Ostrowski",
        "Penhaligon", "Ravenscroft", "Sandoval", "Tremaine", "Underhill", "Valdivia",
        "Winterbourne", "Achterberg", "Bellweather", "Carrow", "Drummond", "Eriksen",
        "Farrow", "Greaves", "Hollis", "Iyer", "Kowalczyk", "Larkspur", "Moreau", "Navarro",
        "Okonjo", "Pryce", "Rourke", "Stavros", "Takahashi", "Vance", "Abernathy",
        "Brightwell", "Castellanos", "Dunmore", "Ellery", "Fontaine", "Goldberg",
        "Harrowgate", "Kinsella", "Lowenthal", "Mirza", "Nightingale", "Oduya", "Pascoe",
        "Renwick", "Sorensen", "Tallis", "Vasquez", "Westergaard"]
ROLE_TITLES = ["Detective", "Captain", "Doctor", "Professor", "Sergeant", "Agent",
               "Inspector", "Judge", "Mayor", "Coach", "Commander", "Senator"]

TITLE_ADJ = ["Silent", "Crimson", "Hollow", "Last", "Broken", "Golden", "Quiet", "Burning",
             "Frozen", "Paper", "Glass", "Iron", "Velvet", "Distant", "Wild", "Hidden",
             "Lonely", "Bitter", "Restless", "Electric", "Sunken", "Forgotten", "Painted",
             "Endless", "Salt", "Pale", "Savage", "Tender", "Midnight", "Scarlet", "Copper",
             "Marble", "Silver", "Falling", "Northern", "Wandering", "Secret", "Little",
             "Second", "Lucky"]
TITLE_NOUN = ["Orchard", "Harbour", "Kingdom", "Season", "River", "Garden", "Signal", "Tide",
              "Lantern", "Crown", "Wolves", "Letters", "Hours", "Winter", "Summer", "Mirror",
              "Machine", "Orchestra", "Country", "Frontier", "Archive", "Promise", "Island",
              "Engine", "Shadows", "Lighthouse", "Parade", "Empire", "Carnival", "Theory",
              "Canyon", "Hunters", "Moon", "Sparrows", "Rain", "Compass", "Circus", "Horizon",
              "Fever", "Bridges", "Passenger", "Witness", "Gambit", "Atlas", "Voyage",
              "Station"]
TITLE_OWNER = ["Cartographer", "Beekeeper", "Clockmaker", "Astronomer", "Lighthouse Keeper",
               "Forger", "Ferryman", "Diver", "Pianist", "Gardener", "Translator", "Mapmaker",
               "Taxidermist", "Glassblower", "Watchmaker", "Night Porter", "Ambassador",
               "Locksmith"]
TITLE_RELATION = ["Daughter", "Son", "Apprentice", "Widow", "Secret", "Last Wish", "Ghost",
                  "Promise", "Wife", "Dilemma", "Garden", "Curse"]
TITLE_PLACE = ["Calder Bay", "Port Avalen", "Saltmere", "Orsk", "Vellmoor", "Kessering",
               "Dunmarrow", "Halloway Creek", "San Lucero", "Brightwater", "Ostravia",
               "Cape Iris", "Thornbury", "Lake Ardent", "Kilbride", "Mount Sorrow",
               "Aldertown", "Fennick Island", "Greyhaven", "Rio Blanco", "Tallow Point",
               "Marrowfield", "Esker Falls", "Lindenholm"]
TITLE_PLACE_PATTERNS = ["Last Train to {p}", "Letters from {p}", "Escape from {p}",
                        "The Road to {p}", "Return to {p}", "Murder in {p}",
                        "Goodbye, {p}", "The {p} Affair", "Winter in {p}",
                        "Seven Days in {p}", "The Ghosts of {p}", "Midnight in {p}",
                        "The Lights of {p}", "Summer at {p}"]
TITLE_NAME_PATTERNS = ["Finding {n}", "Chasing {n}", "Saving {n}", "Becoming {n}",
                       "Waiting for {n}", "Dear {n}", "The Ballad of {n}",
                       "Everything About {n}", "{n} Forever", "The Trouble with {n}"]

TITLE_NAMES = ["Esperanza", "Theodora", "Bartholomew", "Clementine", "Augustin", "Rosalie",
               "Evander", "Philippa", "Lucius", "Marguerite", "Tiberius", "Henrietta",
               "Cornelius", "Seraphina", "Barnaby", "Ottoline", "Florentyna", "Archibald"]
ADV_VERB = ["absolutely", "really", "truly", "genuinely", "thoroughly"]
CHEMISTRY = ["great", "wonderful", "terrific", "electric", "lovely", "real", "easy", "crackling",
             "instant", "genuine"]
# sentence openers that only make sense after a sentence of the same stance
CONTINUATIONS = ("On top of that, ", "Worst of all, ")

FESTIVAL_PLACES = TITLE_PLACE

GENRES = [("thriller", "thrillers"), ("comedy", "comedies"),
          ("romantic comedy", "romantic comedies"), ("horror film", "horror films"),
          ("western", "westerns"), ("heist movie", "heist movies"),
          ("science-fiction epic", "science-fiction epics"), ("period drama", "period dramas"),
          ("musical", "musicals"), ("animated feature", "animated features"),
          ("war film", "war films"), ("coming-of-age story", "coming-of-age stories"),
          ("mystery", "mysteries"), ("noir", "noirs"),
          ("fantasy adventure", "fantasy adventures"),
          ("courtroom drama", "courtroom dramas"), ("sports drama", "sports dramas"),
          ("biopic", "biopics"), ("disaster movie", "disaster movies"),
          ("family drama", "family dramas"), ("spy thriller", "spy thrillers"),
          ("road movie", "road movies"), ("ghost story", "ghost stories"),
          ("monster movie", "monster movies"),
          ("psychological thriller", "psychological thrillers"),
          ("romance", "romances"), ("action film", "action films"),
          ("crime drama", "crime dramas"), ("black comedy", "black comedies"),
          ("political thriller", "political thrillers"), ("space opera", "space operas"),
          ("superhero film", "superhero films"), ("slasher", "slashers"),
          ("fairy tale", "fairy tales"), ("buddy comedy", "buddy comedies"),
          ("survival drama", "survival dramas"), ("martial-arts film", "martial-arts films"),
          ("time-travel caper", "time-travel capers")]

# protagonist|pronoun (she / he / they)
PROTAGONISTS = [
    "a retired police detective|she", "a young violinist|she", "a grieving widow|she",
    "a disgraced surgeon|she", "an ambitious journalist|she", "a small-town librarian|she",
    "a struggling stand-up comedian|she", "a former Olympic swimmer|she",
    "a reclusive novelist|she", "a newly elected mayor|she", "a teenage hacker|she",
    "a single mother|she", "a burned-out schoolteacher|she", "an ageing rock star|she",
    "a marine biologist|she", "a rookie astronaut|she", "a wedding planner|she",
    "a chess prodigy|she", "a professional thief|she", "a lighthouse keeper's daughter|she",
    "a retired boxer|he", "a washed-up jazz pianist|he", "a widowed fisherman|he",
    "a small-time crook|he", "a disillusioned priest|he", "an ex-soldier|he",
    "a struggling chef|he", "a shy accountant|he", "a former child star|he",
    "a country vet|he", "a stubborn old farmer|he", "a junior lawyer|he", "a young monk|he",
    "a failed magician|he", "a billionaire's son|he", "a night-shift taxi driver|he",
    "a museum guard|he", "a famous architect|he", "a reformed con man|he",
    "a lonely lighthouse keeper|he",
    "two estranged brothers|they", "two estranged sisters|they",
    "a family of circus performers|they", "three old friends|they",
    "a pair of rival chefs|they", "a group of teenagers|they",
    "a couple on the verge of divorce|they", "two retired spies|they",
    "a band of misfit thieves|they", "a team of scientists|they", "four cousins|they",
    "a mother and her teenage son|they", "two strangers on a night bus|they",
]
# base-form goals; {pp_pos}/{pp_obj}/{pp_sub} are the protagonist's pronouns;
# "|pl" marks goals that only work with a plural protagonist
GOALS = [
    "try to pull off one last heist", "return to {pp_pos} hometown after a funeral",
    "inherit a crumbling hotel and a family secret",
    "fall for the one person {pp_sub} shouldn't", "go undercover inside a rival gang",
    "race to find a missing child before the storm hits",
    "must decide whether to betray {pp_pos} oldest friend",
    "discover a body in the orchard", "take over a failing village bakery",
    "train for one last fight", "set out to find a legendary lost city",
    "wake up with no memory of the night before",
    "try to reunite {pp_pos} old band for a final tour",
    "get trapped on a space station with a dying crew",
    "investigate a string of disappearances", "have to babysit a very strange child",
    "plan an elaborate revenge on a former business partner",
    "open a restaurant against everyone's advice",
    "keep a lighthouse running through a brutal winter",
    "fake a relationship to win an inheritance",
    "smuggle a stolen painting across the border", "coach a hopeless school chess team",
    "search for {pp_pos} missing sister", "start receiving letters from the future",
    "join a travelling circus to escape {pp_pos} past",
    "build a rocket in {pp_pos} back garden", "find a map hidden inside an old piano",
    "nurse a wounded wolf back to health",
    "run for mayor of a town that doesn't want {pp_obj}",
    "defend a client everybody believes is guilty",
    "stumble onto a conspiracy at a sleepy tax office",
    "swap lives with a stranger for one week", "sail around the world on a borrowed boat",
    "try to lift an ancient curse before the harvest",
    "compete in a cutthroat baking competition",
    "hunt a creature that lives beneath the ice",
    "uncover a forgery ring at a famous museum", "rescue a kidnapped diplomat",
    "spend one last summer together before everything changes|pl",
    "reopen the cold case that ended {pp_pos} career",
    "drive across the country with an urn full of ashes",
    "negotiate with aliens who only speak in riddles",
    "teach music at a school that is about to close",
    "escape from a prison built on a glacier", "fight to save the family vineyard",
    "hide a fugitive in the attic", "get lost in a forest that keeps changing shape",
    "organise a wedding in a week", "try to win back an ex at a school reunion",
    "inherit a haunted cinema", "go looking for a father {pp_sub} never knew",
    "take a road trip to scatter a grandmother's ashes|pl",
]
SETTINGS = [
    "in a snowbound mountain village", "on a remote northern island",
    "in the fading port town of Saltmere", "in 1970s Marseille",
    "aboard a luxury night train", "in a decaying seaside hotel",
    "during a heatwave in a small desert town", "on a generation ship drifting between stars",
    "in the backstreets of 1920s Shanghai", "at an elite boarding school",
    "in a sleepy mining town", "on a fishing trawler in the North Sea",
    "in an abandoned amusement park", "in the last days of the Cold War",
    "in a city where it never stops raining", "on a crumbling vineyard in Portugal",
    "in a rural French village", "in the Alaskan wilderness",
    "on a research station in Antarctica", "in the court of an imaginary kingdom",
    "in a Brooklyn laundromat", "in the basement of a natural history museum",
    "during a single night in Istanbul", "in the mountains of northern Japan",
    "in the suburbs of Melbourne", "in a remote monastery",
    "on the set of a doomed Hollywood musical", "in a frozen Baltic port",
    "in an underwater research lab", "in a noisy Naples apartment block",
    "on a cross-country bus", "in a Victorian asylum", "in a mining colony on Mars",
    "in a dusty border town", "in Tudor London", "in a seaside town out of season",
    "on a cruise ship in a storm", "in the world of competitive ballroom dancing",
    "in an overgrown botanical garden", "in a snowed-in ski lodge",
    "in a near-future Lagos", "in the Scottish Highlands",
]
ENCOUNTERS = ["a mysterious stranger", "an old flame", "a talking fox",
              "a con artist with a heart of gold", "a grumpy neighbour", "a runaway teenager",
              "a retired spy", "a ghost with unfinished business", "a stray dog",
              "a rival detective", "an eccentric millionaire", "a travelling magician",
              "a washed-up boxer", "a chatty robot", "a suspicious priest",
              "a long-lost twin"]
OCCASIONS = ["last night", "on Saturday night", "over the weekend", "on a rainy Tuesday",
             "at a late-night screening", "on opening night", "yesterday afternoon",
             "on a long flight", "during a Sunday matinee", "at a preview screening",
             "last night at my local cinema", "at a tiny arthouse cinema",
             "in a packed theatre", "in a half-empty cinema", "at a drive-in",
             "on a date night", "at the {festival}", "at home on a wet Sunday",
             "with a crowd of students", "at a charity screening"]
COMPANIONS = ["sister", "brother", "partner", "roommate", "best friend", "dad", "mum",
              "husband", "wife", "girlfriend", "boyfriend", "book club", "teenage son",
              "grandmother", "neighbour", "whole office"]
N_MINUTES = ["two and a half hours", "nearly three hours", "ninety minutes", "two hours",
             "a hundred and forty minutes", "a hundred and ten minutes",
             "eighty-five minutes", "almost two and a half hours"]
NTH = ["second", "third", "fourth", "long-awaited fifth", "debut", "latest",
       "first English-language"]

# ---------------------------------------------------------------------------------------
# Sentence templates (stance +1 = positive, -1 = negative)
# ---------------------------------------------------------------------------------------
ASPECT_EVAL = {
    +1: [
        "{Asp} {be} {adv} {padj}.", "{Asp} {be} {padj} throughout.",
        "{Asp} {be} nothing short of {padj}.", "I thought {asp} {was} {adv} {padj}.",
        "Special praise goes to {asp}, {which} {be} {adv} {padj}.",
        "{Asp} {be} {padj} and {padj_b}.", "On top of that, {asp} {be} {padj}.",
        "{Asp} {v:feel} {adv} {padj}.", "{Asp}? {Padj}.",
        "It helps that {asp} {be} so {padj}.", "Credit where it's due: {asp} {be} {padj}.",
        "{Asp} {be} {padj}, full stop.", "{Asp}, in particular, {be} {adv} {padj}.",
        "And {asp}! {Padj}.", "I was struck by how {padj} {asp} {be}.",
        "It's hard to overstate how {padj} {asp} {be}.",
        "Both {asp} and {asp2} are {gpos}.",
        "{Asp} {be} {adv} {padj}, and {asp2} {be2} just as {padj2}.",
        "{Asp} {be} a genuine highlight.",
        "The real star here is {asp}, {which} {be} {padj} from start to finish.",
        "{Asp} {be} {advp} {padj}.", "I {pverbed} {asp}.",
        "{Asp} {be} as {padj} as anything I've seen this year.",
        "What impressed me most was {asp}: {padj}, {padj_b} and never showy.",
        "Did I mention {asp}? {It} {be} {padj}.", "{Asp} alone {be} worth the price of admission.",
        "{Asp} {be} {padj} in a way that feels effortless.",
        "Everything about {asp} is {padj}.",
    ],
    -1: [
        "{Asp} {be} {adv} {nadj}.", "{Asp} {be} {nadj} throughout.",
        "{Asp} {be} {nadj} from start to finish.", "I thought {asp} {was} {adv} {nadj}.",
        "The biggest problem is {asp}, {which} {be} {adv} {nadj}.",
        "{Asp} {be} {nadj} and {nadj_b}.", "On top of that, {asp} {be} {nadj}.",
        "{Asp} {v:feel} {adv} {nadj}.", "{Asp}? {Nadj}.",
        "It doesn't help that {asp} {be} so {nadj}.", "{Asp} {be} {nadj}, plain and simple.",
        "{Asp}, in particular, {be} {adv} {nadj}.", "And {asp}! {Nadj}.",
        "I was struck by how {nadj} {asp} {be}.",
        "It's hard to overstate how {nadj} {asp} {be}.",
        "Both {asp} and {asp2} are {gneg}.",
        "{Asp} {be} {adv} {nadj}, and {asp2} {be2} no better.",
        "{Asp} {be} a real weak spot.", "Worst of all, {asp} {be} {adv} {nadj}.",
        "{Asp} {be} {advn} {nadj}.", "I {nverbed} {asp}.",
        "Then there's {asp}, {which} {be} {gneg_mild} at best.",
        "What bothered me most was {asp}: {nadj}, {nadj_b} and weirdly smug.",
        "Did I mention {asp}? {It} {be} {nadj}.",
        "{Asp} {be} {nadj} in a way that feels almost deliberate.",
        "Everything about {asp} is {nadj}.",
        "Whoever signed off on {asp} should be a little ashamed.",
        "{Asp} {be} so {nadj} that {it} {v:become} a distraction.",
    ],
}

# Mirrored frames: the same words serve both stances. Slots starting with "x" take the
# polarity *opposite* to the sentence's stance, slots starting with "s" the same polarity:
# {xadj}/{sadj} aspect adjectives (asp 1; {xadj2}/{sadj2} asp 2), {xg}/{sg} film-level
# adjectives, {xscene}, {xfeel}, {xnoun}, {xverb} (base form). "I wouldn't call the pacing
# sluggish" (+) and "I wouldn't call the score haunting" (-) share every function word,
# so only the interaction of negation and adjective tells them apart.
NEGATION_FRAMES = [
    "{Asp} {be} never {xadj}.", "{Asp} {isnt} {xadj}, not even slightly.",
    "{Asp} {isnt} {xadj} in the slightest.", "I wouldn't call {asp} {xadj}.",
    "I wouldn't call {asp} {xadj}, not for a second.",
    "At no point {does} {asp} feel {xadj}.", "Not once did {asp} strike me as {xadj}.",
    "There is nothing {xadj} about {asp}.", "Nobody could honestly call {asp} {xadj}.",
    "I didn't find {asp} {xadj} for a moment.", "{Asp} {isnt} remotely {xadj}.",
    "I expected {asp} to be {xadj}, but {it} {wasnt}.", "{Asp} {be} far from {xadj}.",
    "{Asp} {be} anything but {xadj}.", "{Asp} {be} hardly what you'd call {xadj}.",
    "You'll hear people call {asp} {xadj}; don't believe them.",
    "Don't let anyone tell you {asp} {be} {xadj}.",
    "Whatever the posters claim, {asp} {isnt} {xadj}.",
    "I'd been told {asp} {was} {xadj}. {It} {isnt}.",
    "Neither {asp} nor {asp2} {be2} ever {xg}.",
    "It is never {xg}.", "It's never {xg}, not even for a minute.",
    "Not for a second is it {xg}.", "It's not what I would call {xg}.",
    "At no point did I find it {xg}.", "I can't say I found it {xg}.",
    "Nobody could honestly call it {xg}.",
    "I didn't think it was {xg}, not for a single scene.",
    "The word '{xg}' never crossed my mind.", "It never once feels {xscene}.",
    "Not a single scene feels {xscene}.", "There isn't a single {xscene} moment in it.",
    "You will not find a {xscene} moment in it.", "There is nothing {xscene} about it.",
    "I was never {xfeel}, not even for a minute.", "Not for one moment did I feel {xfeel}.",
    "At no point was I {xfeel}.", "This is no {xnoun}.", "By no means is it a {xnoun}.",
    "Nobody will mistake this for a {xnoun}.", "It's far from the {xnoun} I'd been promised.",
    "It is not, as I'd been told, a {xnoun}.", "Calling it a {xnoun} would be a stretch.",
    "I didn't {xverb} a single minute of it.", "Not for one minute did I {xverb} it.",
    "{Tf} is anything but {xg}.", "{Tf} is not {xg} by any stretch.",
    "I wouldn't call it {xg} for a second.", "If you're expecting something {xg}, think again.",
    "People keep calling it {xg}. I honestly don't see it.",
    "Anyone who calls this {xg} wasn't paying attention.", "Never {xg}, never {xg_b}.",
]

# Stance-specific negations (the classic ones).
NEGATED_ONEWAY = {
    +1: [
        "Not bad at all.", "Not bad. Not bad at all.", "Honestly? Not bad at all.",
        "It didn't disappoint.", "I was not disappointed, not even slightly.",
        "{Tf} did not disappoint me one bit.", "I have no complaints whatsoever.",
        "No complaints here.", "I couldn't find a single fault with it.",
        "Not one minute is wasted.", "It doesn't put a foot wrong.",
        "I never once looked at my watch.", "I didn't regret a single minute of it.",
        "It's not perfect, but it's never {gneg}.",
        "Nobody in the cast is anything less than {gpos}.",
        "I can't think of a single thing I didn't {pverbc} about it.",
    ],
    -1: [
        "I can't recommend it.", "I can't recommend it to anyone.",
        "I wouldn't recommend it to anyone.", "Not one joke lands.", "Not one scene works.",
        "Not even {actor} can save it.", "I didn't laugh once.",
        "It doesn't work on any level.", "Good? Not even close.",
        "It doesn't deserve the {gpos} reviews it has been getting.",
        "No amount of gorgeous scenery can hide how empty it is.",
        "It never once earns its big emotional moments.", "None of it is {gpos}.",
        "It's not {gpos}. It's not even {gpos_mild}.",
        "It's not {gpos}, it's not {gpos_b}, and it's not even {gpos_mild}.",
        "It's never as {gpos} as it thinks it is.",
    ],
}

# Contrast inside one sentence: the first clause goes against the stance, the second
# carries it. Aspect-level frames can sit anywhere in a review.
CONTRAST_FRAMES = [
    "{Asp} {be} {xadj}, but {asp2} {be2} {adv} {sadj2}.",
    "Sure, {asp} {be} {xadj}, but {asp2} {be2} {sadj2}.",
    "{Asp} may be {xadj}, but {asp2} {be2} {sadj2}.",
    "While {asp} {be} {xadj}, {asp2} {be2} {sadj2}.",
    "{Asp} {be} {xadj}; {asp2}, on the other hand, {be2} {sadj2}.",
    "Granted, {asp} {be} {xadj}, but {asp2} {be2} {sadj2}.",
    "{Asp} {be} {xadj} at times, yet {asp2} {be2} consistently {sadj2}.",
    "{Asp} {be} {xadj}, though {asp2} {be2} {sadj2}.",
    "Yes, {asp} {be} {xadj}, but what matters more is that {asp2} {be2} {sadj2}.",
    "{Asp} {be} a little {xadj}, whereas {asp2} {be2} {sadj2}.",
    "Although {asp} {be} {xadj}, {asp2} {be2} {adv} {sadj2}.",
    "{Asp} {be} {xadj}, no question; {asp2}, however, {be2} {sadj2}.",
]
# Film-level contrast: only used where the second clause agrees with the verdict.
CONTRAST_FILM = [
    "The first half is {xg}, but the second half is {sg}.",
    "It starts out {xg} and ends up {sg}.",
    "On paper it sounds {xg}; on screen it is {sg}.",
    "The premise sounds {xg}, but the execution is {sg}.",
    "The trailer looked {xg}, but the film itself is {sg}.",
    "It has a few {xscene} moments, but overall it is {sg}.",
]

# The turn after a run of sentences against the verdict (mirrored frames).
TURN_FRAMES = [
    "And yet, taken as a whole, it is {sg}.", "In the end, though, {tf} is {adv} {sg}.",
    "Still, the overall verdict is simple: {sg}.", "Despite all that, I found it {sg}.",
    "Add it all up, though, and it's {sg}.", "All of that said, it is {adv} {sg}.",
    "But here's the thing: the film as a whole is {sg}.",
    "Somehow, though, the result is {sg}.", "Even so, the overall effect is {sg}.",
    "But none of that changes the verdict: {sg}.",
    "None of that matters much; what matters is that it is {sg}.",
    "Strange as it sounds, the whole thing is {sg}.",
]

# Expectation reversed (mirrored): the label is the opposite of the expectation.
CONCESSION_FRAMES = [
    "I expected to {xverb} it, and I was wrong.",
    "Everyone told me I'd {xverb} it. Everyone was wrong.",
    "I was sure I would {xverb} it. I didn't.",
    "I went in expecting something {xg}. That is not what I got.",
    "I'd been told it was {xg}. It isn't.", "I was ready to be {xfeel}, and I never was.",
    "The trailer made it look {xg}, which turned out to be misleading.",
    "My {companion} said it would be {xg}, and could not have been more wrong.",
    "Reviews called it {xg}. I can't agree.",
    "I went in expecting a {xnoun} and never got one.",
]

CONCESSION = {
    +1: [
        "I expected to {nverbc} it, but {tf} won me over.",
        "I went in expecting a {nnoun}, and came out {pfeel}.",
        "I'm not usually a fan of {genres}, but this one is {gpos}.",
        "Despite a {startadj} start, {tf} finds its feet quickly.",
        "Despite {asp} being a bit {nadj}, I {pverbced} it.",
        "For all its flaws, {tf} is {adv} {gpos}.",
        "Yes, {asp} {be} {nadj}. I {pverbced} it anyway.",
        "The reviews had me worried, but I needn't have been.",
        "I nearly walked out in the first ten minutes, and I'm glad I didn't.",
        "My expectations were low, and {tf} blew them away.",
        "I was ready to be {nfeel}, and instead I was {pfeel}.",
        "I didn't think this premise could work, but it does.",
        "Give it twenty minutes: once it gets going, it is {gpos}.",
        "Although it takes a while to get going, it is {adv} {gpos} once it does.",
        "It's not perfect, but it's {gpos} where it counts.",
        "Admittedly, {asp} {be} {nadj}, but I was too {pfeel} to care.",
        "I was dreading {n_minutes} of this, and I enjoyed every one of them.",
    ],
    -1: [
        "I expected to {pverbc} it, but {tf} lost me early on.",
        "I really wanted to {pverbc} this film.",
        "I went in expecting a {pnoun} and came out {nfeel}.",
        "I'm a huge fan of {genres}, but this one is {gneg}.",
        "Despite a {gpos} first act, {tf} falls apart completely.",
        "Despite {asp} being {padj}, I {nverbced} it.",
        "For all its ambition, {tf} is {adv} {gneg}.",
        "Yes, {asp} {be} {padj}. I still {nverbced} it.",
        "The reviews were glowing, which only made it more {gneg}.",
        "I gave it every chance, I really did.", "I had such high hopes for {film}.",
        "Everyone told me I'd {pverbc} it.",
        "I was ready to be {pfeel}, and instead I was {nfeel}.",
        "On paper, {film} has everything going for it.",
        "{Actor} is a wonderful actor, which makes this all the more {gneg}.",
        "Admittedly, {asp} {be} {padj}, but that is the only good thing here.",
        "I wanted to like it, I truly did.",
    ],
}

TURN = {
    +1: [
        "And yet, somehow, it all works.",
        "But none of that matters, because {tf} has real heart.",
        "That said, I {pverbed} every minute of it.", "Still, I had a {gpos} time.",
        "Even so, it won me over completely.", "In spite of all that, I {pverbced} it.",
        "And yet I can't stop thinking about it.",
        "But here's the thing: it works anyway.",
        "Somehow, though, the whole is far greater than the sum of its parts.",
        "None of these flaws stopped me from {pverbing} it.",
        "Flaws and all, it's {adv} {gpos}.",
        "But when it works, it really works, and it works more often than not.",
        "I know how that sounds, but I {pverbced} it anyway.",
        "Strangely, I walked out with a huge smile on my face.",
    ],
    -1: [
        "But none of it adds up to much.", "Unfortunately, none of that can save it.",
        "But that's where the good news ends.",
        "Sadly, that's about all it has going for it.",
        "None of which makes it worth watching.", "And yet I was bored stiff.",
        "But somehow it all adds up to nothing.", "Still, I can't say I {pverbced} it.",
        "Even so, it left me cold.",
        "Sadly, the whole is much less than the sum of its parts.",
        "It's a shame, because the ingredients are all there.",
        "All of which makes the rest of it even more frustrating.",
        "I wanted to love it; I just didn't.",
        "Strangely, I walked out feeling nothing at all.",
    ],
}

IMPLICIT = {
    +1: [
        "I laughed until my sides hurt.", "The audience applauded when the credits rolled.",
        "I've already bought tickets to see it again.",
        "I was on the edge of my seat for the entire last act.",
        "I stayed through the credits just to hear the music again.", "Time flew.",
        "My kids have asked to watch it three more times.", "It stayed with me for days.",
        "I want to see it again right now.", "The whole theatre gasped at the twist.",
        "I walked out of the cinema grinning.",
        "I texted three friends to go and see it before I was even out of the car park.",
        "My {companion}, who hates {genres}, was hooked.",
        "I caught myself holding my breath more than once.",
        "I can't stop humming the theme.",
        "I'll be buying this one the day it comes out on disc.",
        "I cried twice, and I don't cry at films.",
        "There was a round of applause at our screening, which never happens.",
        "It's the kind of film you talk about all the way home.",
        "My dad, who sleeps through everything, stayed awake to the end.",
        "The two hours went by in what felt like twenty minutes.",
        "I'm still thinking about that final shot.",
        "I went back the next day with my {companion}.",
        "Nobody in our row moved until the lights came up.",
    ],
    -1: [
        "I checked my watch more times than I can count.",
        "Half the audience had left before the final act.", "I fell asleep twice.",
        "My phone was more interesting.", "I kept waiting for something to happen.",
        "The theatre was silent in all the places where it should have been laughing.",
        "I couldn't wait for the credits to roll.",
        "I'd forgotten most of it before I reached the car park.", "Two hours felt like four.",
        "The couple next to me left after forty minutes, and I envied them.",
        "I started planning my shopping list halfway through.",
        "My friend and I spent the drive home trying to work out what the point was.",
        "At one point I heard someone behind me snoring.",
        "I've had more fun at the dentist.",
        "I spent most of it wondering how it ever got made.",
        "By the hour mark I was reading the fire exit signs.",
        "Even the popcorn couldn't keep me awake.",
        "I left before the end, and I don't regret it.",
        "My kids, who will watch anything, asked to leave.", "I want my evening back.",
        "I could feel my patience draining with every scene.",
        "I kept glancing at the exit.",
        "My {companion} walked out after half an hour and waited in the car.",
        "People around me were scrolling on their phones by the second act.",
    ],
}

ACTOR = {
    +1: [
        "{Actor} is {adv} {apos} as {role}.",
        "{Actor} gives the performance of {ap_pos} career as {role}.",
        "{Actor} steals every scene {ap_subis} in.",
        "{Actor} disappears completely into the role of {role}.",
        "As {role}, {actor} is a revelation.",
        "{Actor} and {actor2} have {chem} chemistry.",
        "I could watch {actor} read a phone book.",
        "{Actor} finds layers in {role} that the script never hints at.",
        "{Director} gets {adv} {apos} work out of the whole cast.",
        "{Director}'s direction is {adv} {dpos}.", "{Actor} has never been better.",
        "{Actor} is the beating heart of the film.",
        "{Actor2} is a scene-stealer in a small but {apos} role.",
    ],
    -1: [
        "{Actor} is {adv} {aneg} as {role}.", "{Actor} sleepwalks through the role of {role}.",
        "{Actor} looks lost as {role}.",
        "{Actor} seems to be reading {ap_pos} lines off a cue card.",
        "Even {actor} can't do much with the material.",
        "{Actor} and {actor2} have zero chemistry.", "{Actor} is badly miscast as {role}.",
        "{Director}'s direction is {adv} {dneg}.",
        "{Director} seems to have lost interest halfway through.",
        "{Actor} mugs {ap_pos} way through every scene.", "{Actor} has never been worse.",
        "{Actor} looks like {ap_subis} counting the minutes until the cheque clears.",
        "{Actor2} is stuck with a {aneg} role and can do nothing with it.",
    ],
}

GENERAL = {
    +1: [
        "{Film} is {adv} {gpos}.", "{Film} is a {gpos} {genre}.", "{Tf} is a {nint} {pnoun}.",
        "What a {gpos} film.", "It is one of the most {gpos_most} {genres} in years.",
        "Easily the best {genre} I've seen in years.",
        "{Film} is the kind of {genre} they don't make any more.",
        "It's {gpos} from the first frame to the last.", "Every minute of it is {gpos}.",
        "I {pverbed} it.", "I {pverbed} every minute of it.", "I {advv} {pverbced} it.",
        "It's {gpos}, it's {gpos_b}, and it's {gpos_c}.",
        "{Film} is a {gpos}, {gpos_b} piece of filmmaking.",
        "This is filmmaking at its most {gpos_most}.", "Simply put, {film} is {gpos}.",
        "{Film} is a {gpos} reminder of what {genres} can do.",
        "What a {nint} {pnoun} this is.", "{Film} is pure joy, start to finish.",
        "{Film} is a masterpiece.", "A masterpiece, plain and simple.",
        "I loved every second of it.", "I loved it, and so did everyone I went with.",
        "It's a genuine masterpiece of {genre}.",
    ],
    -1: [
        "{Film} is {adv} {gneg}.", "{Film} is a {gneg} {genre}.", "{Tf} is a {nint} {nnoun}.",
        "What a {gneg} film.", "It is one of the most {gneg_most} {genres} in years.",
        "Easily the worst {genre} I've seen in years.",
        "{Film} is everything wrong with modern {genres}.",
        "It's {gneg} from the first frame to the last.", "Every minute of it is {gneg}.",
        "I {nverbed} it.", "I {nverbed} every minute of it.", "I {advv} {nverbced} it.",
        "It's {gneg}, it's {gneg_b}, and it's {gneg_c}.",
        "{Film} is a {gneg}, {gneg_b} piece of filmmaking.",
        "This is filmmaking at its most {gneg_most}.", "Simply put, {film} is {gneg}.",
        "{Film} is a {gneg} reminder of how low {genres} can sink.",
        "What a {nint} {nnoun} this is.", "{Film} is a {nnoun}, start to finish.",
        "{Film} is a mess.", "A mess, plain and simple.",
        "I hated every second of it.", "I hated it, and so did everyone I went with.",
    ],
}

# Minor opposite remark inside an otherwise one-sided review (stance of the remark).
MINOR = {
    -1: [  # used inside positive reviews
        "My only complaint is that {asp} {be} a little {nadj}.",
        "If I had to nitpick, {asp} {be} slightly {nadj}.",
        "The only weak spot is {asp}, {which} {be} a bit {nadj}.",
        "{Asp} {be} occasionally {nadj}, but that's a minor quibble.",
        "It runs a little long.", "One subplot goes nowhere.",
    ],
    +1: [  # used inside negative reviews
        "The only bright spot is {asp}, {which} {be} genuinely {padj}.",
        "To be fair, {asp} {be} {padj}.", "At least {asp} {be} {padj}.",
        "{Actor} does what {ap_sub} can with a thin script.",
        "There are one or two {spos} moments.", "The opening scene is {gpos}.",
    ],
}

COMPARISON = {
    +1: [
        "It's even better than {film2}.", "If you liked {film2}, you'll love this.",
        "It makes {film2} look like amateur hour.",
        "It's no {film2}, but it comes surprisingly close.",
        ("Not quite as {cmppos} as {film2}, but still a lot of fun.", "concession"),
        "Think {film2}, but smarter and funnier.",
        "It has all the charm of {film2} and none of its flaws.",
        "Fans of {film2} are in for a treat.", "It's the best {genre} since {film2}.",
        "Where {film2} stumbled, {film} soars.", "It's {film2} done right.",
        "I'd put it right up there with {film2}.",
        "It does everything {film2} tried to do, only better.",
        "It's what {film2} should have been.",
    ],
    -1: [
        ("It's nowhere near as {cmppos} as {film2}.", "negation"),
        "It makes {film2} look like a masterpiece.",
        "If you liked {film2}, you'll hate this.", "It's a pale imitation of {film2}.",
        "{Film2} did all of this better, and years ago.",
        "Think {film2}, but without the wit, the heart or the budget.",
        "Stay home and watch {film2} again instead.",
        "Better than {film2}, but that isn't saying much.",
        "It's {film2} all over again, minus everything that made that film work.",
        "It's the worst {genre} since {film2}.", "Where {film2} soared, {film} stumbles.",
        "It tries so hard to be the next {film2}, and fails at every turn.",
        "Even {film2}, for all its problems, was more fun than this.",
        "Compared to {film2}, it's a slog.",
    ],
}

SARCASM = [
    "Oh great, another two hours of my life I'll never get back.",
    ("Wow, what a masterpiece. I especially loved the part where nothing happened "
     "for forty minutes."),
    "Truly a triumph, if your idea of a triumph is watching paint dry.",
    "A fantastic cure for insomnia.",
    "Perfect viewing if you've always wanted to fall asleep in a cinema.",
    "My favourite part was the end credits.", "Best nap I've had all year.",
    "Brilliant. Just brilliant. {N_minutes} of people staring meaningfully out of windows.",
    "Great, just great: a twist you can see coming from the opening credits.",
    "I loved checking my watch every ten minutes.",
    "What a treat: {n_minutes} of the same joke, told five different ways.",
    "Bravo to the editor for keeping every single unnecessary scene.",
    "Congratulations to everyone involved for making {n_minutes} feel like a week.",
    "Sure, because what every {genre} needs is another forty minutes of exposition.",
    "Oh wonderful, the tortured-genius subplot again. How original.",
    "Such a thrill to watch {actor} stare into the middle distance for the fifteenth time.",
    "Five stars for the comfortable seats, at least.",
    "The real star of the evening was the exit sign.",
    "Clearly a masterpiece, which is why half the audience left early.",
    "I'm sure it all made sense to somebody.",
    "Lovely. Another {genre} where the plot is optional.",
    "Groundbreaking stuff, if you've never seen a film before.",
    "Oh, it's a fine film, if you enjoy staring at a wall for {n_minutes}.",
    "Amazing how a film with so many explosions can feel so sleepy.",
    "Fantastic news for anyone who missed the last ten films exactly like it.",
    "What a joy to spend {n_minutes} with characters I wanted to push off a cliff.",
]

# Openings: family name -> templates (neutral context; the family is the holdout unit)
OPENINGS = {
    "occasion": ["I saw {film} {occasion}.", "I caught {film} {occasion}.",
                 "Finally got round to watching {film} {occasion}.",
                 "Watched {film} {occasion}."],
    "companion": ["My {companion} talked me into seeing {film}.",
                  "I went to {film} with my {companion}, who picked it.",
                  "My {companion} had been going on about {film} for weeks.",
                  "It was my {companion}'s turn to choose, and the choice was {film}."],
    "background": ["{Film} is the {nth} feature from {director}.",
                   "{Film} marks another collaboration between {director} and {actor}.",
                   "{Director}'s new {genre}, {film}, arrives after years of delays.",
                   "{Film} opened this week after a long festival run."],
    "expectation": ["I went in knowing nothing about {film}.",
                    "I didn't know much about {film} going in.",
                    "I'd heard mixed things about {film}.",
                    "The trailer sold {film} as a {genre_other}."],
    "genre": ["{Film} is a {genre} set {setting}.",
              "{Film} is a {genre} from {director}, starring {actor}.",
              "On paper, {film} is a fairly standard {genre}.",
              "{Film} is {director}'s take on the {genre}."],
    "fan": ["I'm a longtime fan of {actor}.", "I've followed {director}'s career since {film2}.",
            "I'll watch anything with {actor} in it.",
            "{Director} made {film2}, so I was curious."],
    "hook": ["Where do I even start with {film}?", "So, {film}.", "Let's talk about {film}.",
             "Okay, {film}.", "Full disclosure: I'm not a big {genre} person."],
    "meta": ["This is my first review on here.",
             "I don't usually write reviews, but I had to say something about {film}.",
             "No spoilers, I promise.", "I'll keep this spoiler-free."],
    "queue": ["{Film} had been sitting in my watch list for months.",
              "A friend lent me {film} on disc, and I finally put it on.",
              "{Film} turned up on a streaming service, so I gave it a go.",
              "{Film} was the only thing showing at a time that suited me."],
    "festival": ["{Film} premiered at the {festival} to a lot of noise.",
                 "I saw {film} at the {festival}, with {director} in the audience.",
                 "{Film} was the closing film at this year's {festival}.",
                 "The buzz around {film} at the {festival} was impossible to ignore."],
}

SUMMARY = [
    "The story follows {protagonist}, who {goal}.",
    "Set {setting}, the story follows {protagonist} as {pp_sub} {goal_v}.",
    "The premise: {protagonist} {goal_v} {setting}.",
    "It's the story of {protagonist} who {goal}, and everything that goes wrong along the way.",
    "Without spoiling anything, {protagonist} {goal_v}, and things get complicated.",
    "The set-up is simple: {protagonist} {goal_v}.",
    "{Setting}, {protagonist} {goal_v}.", "Most of the film takes place {setting}.",
    "{Actor} stars as {role}, {protagonist_s} who {goal_s}.",
    "The less you know about the plot, the better.", "It runs {n_minutes}.",
    "The film is based on a novel by {person}.",
    "{Actor2} turns up as {encounter}.",
    "It is adapted from a stage play by {person}.",
    "The screenplay is by {person}, working from an old radio serial.",
]
# follow-ups, only used after a sentence that introduced the protagonist
SUMMARY_MORE = [
    "Along the way, {pp_sub} {meet} {encounter}.",
    "Things get complicated when {pp_sub} {meet} {encounter}.",
    "Then {pp_sub} {meet} {encounter}, and nothing goes to plan.",
    "Complications arrive in the shape of {encounter}.",
    "Somewhere in the middle of all this, {pp_sub} {meet} {encounter}.",
]

# Closings: family name -> {"+s", "+m", "-s", "-m"} (stance and strength)
VERDICTS = {
    "recommend": {
        "+s": ["Highly recommended.", "I can't recommend it enough.",
               "Recommended without reservation.", "I'd recommend it to absolutely anyone."],
        "+m": ["Recommended, with a few reservations.",
               "I'd recommend it, though not without caveats.", "Mildly recommended."],
        "-s": ["Not recommended.", "I can't recommend it to anyone.",
               "I wouldn't recommend it to my worst enemy."],
        "-m": ["Hard to recommend.", "I can't quite recommend it.",
               "I'd find it hard to recommend to anyone but die-hard fans."],
    },
    "money": {
        "+s": ["Worth every penny of the ticket price.", "Pay full price; you won't regret it."],
        "+m": ["Worth a matinee ticket.", "Worth a rental on a rainy afternoon."],
        "-s": ["Save your money.", "Keep your money in your pocket.", "I want a refund."],
        "-m": ["Wait until it's free to stream.",
               "Not worth the price of a ticket, though it might pass the time on TV."],
    },
    "see": {
        "+s": ["See it on the biggest screen you can find.", "Go see it. You can thank me later.",
               "Don't miss it."],
        "+m": ["Worth seeing, if only once.", "Catch it if you can."],
        "-s": ["Skip it.", "Avoid.", "Don't bother.", "Stay far away."],
        "-m": ["You can safely skip this one.", "Catch something else if you can."],
    },
    "bottom_line": {
        "+s": ["Bottom line: a {gpos} {genre} that earns every minute.",
               "In short, {film} is a {pnoun}.", "Put simply: {gpos}."],
        "+m": ["Bottom line: flawed, but worth it.",
               "In short, {film} is {gpos_mild} entertainment."],
        "-s": ["Bottom line: a {gneg} {genre} with nothing to say.",
               "In short, {film} is a {nnoun}.", "Put simply: {gneg}."],
        "-m": ["Bottom line: it's not awful, but it's not good either.",
               "In short, a {gneg_mild} effort from a talented team."],
    },
    "memory": {
        "+s": ["I'll be thinking about it for weeks.", "I'd happily watch it again tomorrow.",
               "It earns every minute of its runtime."],
        "+m": ["I may not rush to see it again, but I'm glad I saw it.",
               "A pleasant way to spend an evening."],
        "-s": ["I want those two hours back.", "Life is too short for films like this.",
               "I'd forgotten most of it by the time I got home."],
        "-m": ["It passed the time, but I won't remember it next week.",
               "There are worse ways to spend an evening, but plenty of better ones."],
    },
    "ranking": {
        "+s": ["One of the best films of the year.",
               "Easily one of my favourite {genres} in years.", "An instant classic."],
        "+m": ["Not the film of the year, but a {gpos_mild} one.",
               "Not a {pnoun}, but a {gpos_mild} night out."],
        "-s": ["One of the worst films I've seen this year.",
               "A strong contender for worst film of the year."],
        "-m": ["Not the worst film of the year, but far from the best.",
               "Not a {nnoun}, but nothing to write home about."],
    },
    "audience": {
        "+s": ["Fans of {genres} will be in heaven.", "Bring your friends; bring your family."],
        "+m": ["Fans of {director} will find plenty to enjoy.",
               "If you like {genres}, you'll have a good time."],
        "-s": ["Even die-hard fans of {genres} should stay away.",
               "Nobody deserves to sit through this."],
        "-m": ["Die-hard fans of {actor} might get something out of it; everyone else can skip it.",
               "Maybe one for die-hard fans of {genres}; everyone else can pass."],
    },
    "blunt": {
        "+s": ["Loved it.", "Go. Now.", "Just brilliant.", "Wonderful stuff."],
        "+m": ["Pretty good!", "Good fun.", "Nice enough."],
        "-s": ["Awful.", "Nope.", "Hard pass.", "Dreadful stuff."],
        "-m": ["Meh.", "Not for me.", "Not great."],
    },
    "future": {
        "+s": ["I can't wait to see what {director} does next.",
               "This is the film people will still be talking about in ten years."],
        "+m": ["I'm curious to see what {director} does next.",
               "Not perfect, but it makes me want to see {director}'s next film."],
        "-s": ["I hope {director} takes a long break after this.",
               "Nobody will remember this film in a year."],
        "-m": ["Hopefully {director}'s next film is a step up.",
               "I'll give {director} another chance, but only one."],
    },
    "time": {
        "+s": ["Worth every minute.", "Two hours well spent."],
        "+m": ["A decent use of a free evening.", "Time well enough spent."],
        "-s": ["Two hours I'll never get back.", "A waste of a perfectly good evening."],
        "-m": ["Not a total waste of time, but close.",
               "I didn't hate the evening, but I wouldn't repeat it."],
    },
}

# Explicit overall verdicts for mixed reviews (stance).
OVERALL = {
    +1: ["Overall, the good outweighs the bad.", "On balance, I'd still recommend it.",
         "All things considered, I enjoyed it.", "Taken as a whole, it works.",
         "The flaws are real, but so is the fun.", "In the end, the positives win out.",
         "Warts and all, I came out a fan.",
         "The problems are easy to forgive when the rest is this {gpos}."],
    -1: ["Overall, the bad outweighs the good.", "On balance, I can't recommend it.",
         "All things considered, it's a miss.", "Taken as a whole, it doesn't work.",
         "The strengths are real, but they're buried under too much mess.",
         "In the end, the negatives win out.", "Good moments, bad film.",
         "The highlights are easy to forget when the rest is this {gneg}."],
}

RATING_LINES = {
    +1: ["{r}/10.", "{r} out of 10.", "I'd give it a {r}.", "My rating: {r}/10.",
         "{r}/10 from me.", "A well-deserved {r}/10.", "Rating: {r}/10."],
    -1: ["{r}/10.", "{r} out of 10.", "I'd give it a {r}.", "My rating: {r}/10.",
         "{r}/10 from me.", "{r}/10, and that's being generous.", "Rating: {r}/10."],
}

ASPECT_PHRASES = {
    "acting": {
        +1: [("{Actor} disappears so completely into {role} that I forgot I was watching "
              "a performance."),
             "Every member of the cast seems to know exactly what film they are in.",
             ("{Actor} does more with a single glance than most actors manage with a whole "
              "monologue."),
             "The chemistry between {actor} and {actor2} crackles in every scene they share.",
             "Even the smallest supporting roles are cast with real care.",
             "You believe every word {actor} says.",
             "{Actor2} nearly walks away with the film in a small but vivid role.",
             "The performances are so natural that some scenes feel almost improvised."],
        -1: ["{Actor} delivers every line as if reading it off the back of a cereal box.",
             "Nobody in the cast seems sure what kind of film they are in.",
             "{Actor} and {actor2} have all the chemistry of two strangers at a bus stop.",
             "{Actor} spends most of the film squinting meaningfully into the distance.",
             "The supporting cast is wasted on characters with nothing to do.",
             "{Actor} is badly miscast as {role} and never recovers.",
             "Half the performances are shouted and the other half are mumbled.",
             "{Actor2} seems to have wandered in from a different, better film."],
    },
    "plot": {
        +1: ["The script keeps you guessing right up to the final scene.",
             "Every clue is planted fairly, and the payoffs land beautifully.",
             "The story takes turns I genuinely did not see coming.",
             "It trusts the audience to keep up, and that trust is rewarded.",
             "Each subplot folds neatly back into the main story.",
             ("The premise sounds silly on paper, but the script makes it work.", "contrast"),
             ("Not a single scene is wasted.", "negation"),
             "The plotting is as precise as a Swiss watch."],
        -1: ["You can guess every twist from the first ten minutes.",
             "The plot holes are big enough to drive a truck through.",
             "Whole subplots are introduced and then simply forgotten.",
             "The script mistakes confusion for complexity.",
             "Characters make decisions no human being would ever make.",
             "The story runs out of ideas long before the halfway mark.",
             "The mystery is solved by a coincidence so convenient it is almost insulting.",
             "It borrows every idea it has from better films."],
    },
    "pacing": {
        +1: [("It never drags, not even in the quieter stretches.", "negation"),
             "At {n_minutes}, it still feels too short.",
             "The editing keeps the energy up without ever feeling frantic.",
             "Two hours flew by.", "Every scene moves the story forward.",
             "It builds tension patiently and then never lets go.",
             "The quieter middle section gives the characters room to breathe.",
             ("There isn't an ounce of fat on it.", "negation")],
        -1: ["At {n_minutes}, it outstays its welcome by a good forty minutes.",
             "The middle hour is a long, slow crawl.",
             "Scenes go on long after their point has been made.",
             "It takes forty minutes for anything to happen.",
             "The editing is so choppy that the action becomes impossible to follow.",
             "Somewhere around the second hour I started counting the ceiling tiles.",
             "It could lose half an hour and nobody would notice.",
             "The story stops dead for a pointless flashback."],
    },
    "music": {
        +1: ["The score swells at exactly the right moments.",
             "I went home and listened to the soundtrack twice.",
             "The songs are catchy enough that I was humming them on the way out.",
             "The music does half the emotional work, and does it well.",
             "A lone cello carries the final scene, and it is devastating in the best way.",
             "The sound design makes every creak of the old house count.",
             "The soundtrack is packed with forgotten gems."],
        -1: ["The score tells you exactly what to feel in every single scene.",
             "The music never stops, even when silence would do the job better.",
             "Every emotional beat is smothered in strings.",
             "The songs are instantly forgettable.",
             "The soundtrack sounds like it was bought from a stock music library.",
             "The sound mix buries half the dialogue under the music.",
             "The same four notes repeat until you want to scream.",
             "Someone clearly fell in love with the synthesiser."],
    },
    "visuals": {
        +1: ["Almost every frame could hang in a gallery.",
             "The colours glow like old postcards.",
             "The camera finds beauty in the most ordinary places.",
             "Some of the images are so striking that I gasped out loud.",
             "The production design makes the world feel lived-in and real.",
             "The long opening shot alone is worth the ticket.",
             "The night scenes glow with neon and rain.",
             "The costumes tell you everything about the characters before they say a word."],
        -1: ["Half the film is so dark you can barely see who is speaking.",
             "It looks like it was shot on a phone in a car park.",
             "The colour grading turns everything a sickly shade of grey.",
             "The shaky camera made me feel seasick.",
             "The sets look like they might fall over if an actor leaned on them.",
             "Every shot looks like a cheap perfume advert.",
             "The green screen is painfully obvious in every outdoor scene.",
             "The visuals are drained of colour and of life."],
    },
    "dialogue": {
        +1: ["Every line lands.", "I laughed out loud more times than I can count.",
             "The banter between {actor} and {actor2} is a joy to listen to.",
             "The dialogue sounds like real people talking.",
             "Half the lines are instantly quotable.",
             "The jokes keep coming, and most of them hit.",
             "Even the throwaway lines have a sting to them.",
             "The script has a great ear for the way families argue."],
        -1: ["Characters explain the plot to each other in painful detail.",
             "Nobody talks like this, and nobody ever has.",
             "The jokes land with a dull thud.", "Every other line is a cliché.",
             "The dialogue is so on the nose that it made me wince.",
             "I counted three separate speeches about the meaning of family.",
             "The one-liners are so tired they need a nap.",
             "The audience was silent through every joke."],
    },
    "ending": {
        +1: ["The final scene left the whole theatre in silence, in the best possible way.",
             "The ending is earned, surprising and exactly right.",
             "I was in tears by the last scene.",
             "The twist changes the meaning of everything that came before it.",
             "The final shot will stay with me for a long time.",
             "It ends on a note of quiet hope that feels completely earned.",
             "The last ten minutes had the audience on its feet.",
             "The climax ties every thread together without feeling neat."],
        -1: ["The ending comes out of nowhere and explains nothing.",
             "It just stops, as if the money ran out.",
             "The twist is so obvious that the big reveal got laughs.",
             "The final act throws away everything the film had built.",
             "The last scene is a shameless set-up for a sequel.",
             "The climax is ten minutes of people shouting in the dark.",
             "It ends three times, and none of the endings work.",
             "The ending left the whole audience groaning."],
    },
    "effects": {
        +1: ["The effects are so seamless that you forget they are effects.",
             "The creature work is practical, tactile and genuinely scary.",
             "The car chase through the market is the best action scene of the year.",
             "Every explosion has real weight to it.",
             "The fight choreography is clear enough that you always know who is hitting whom.",
             "The final battle is staggering in scale.",
             "The space sequences are as beautiful as they are terrifying.",
             "The stunt work had me gripping the armrest."],
        -1: ["The CGI monster looks like it escaped from an old video game.",
             "The action is edited into incomprehensible mush.",
             "The explosions have no weight and no consequence.",
             "Every fight is shot in such tight close-up that you cannot tell who is winning.",
             "The green-screen backgrounds look painfully fake.",
             "The digital crowds move like wind-up toys.",
             "The big set piece is a blur of noise and sparks.",
             "The effects budget clearly went on the trailer."],
    },
    "direction": {
        +1: ["{Director} directs with the confidence of a seasoned master.",
             "{Director} knows exactly when to hold a shot and when to cut away.",
             "Every choice {director} makes feels deliberate.",
             "{Director} balances the comedy and the heartbreak with real skill.",
             "You can feel {director}'s love for these characters in every scene.",
             "{Director} stages the big set pieces with remarkable clarity."],
        -1: ["{Director} never seems to decide what kind of film this is.",
             "{Director} lets every scene run twice as long as it should.",
             "{Director} mistakes slow motion for style.",
             "You can feel {director} straining for profundity in every shot.",
             "{Director} shoots every conversation in the same flat close-up.",
             "There is no sense that anyone was steering this ship."],
    },
    "characters": {
        +1: ["I cared about these people more than I expected to.",
             "Even the villain gets a moment of real tenderness.",
             "The central friendship is the beating heart of the film.",
             "By the end, the characters felt like old friends.",
             "Every character, however small, gets a moment to shine.",
             "{Role} is one of the most memorable characters of the year."],
        -1: ["I didn't care whether any of these people lived or died.",
             "The villain's motivation boils down to 'because'.",
             "Nobody in the film behaves like a real human being.",
             "{Role} makes such stupid decisions that I started rooting for the villain.",
             "The romance has all the heat of a damp matchbox.",
             "The characters are types, not people."],
    },
}

# informal register
INFORMAL_OPENERS = ["ok so", "honestly", "ngl", "so yeah", "right so", "lol", "omg", "welp"]
INFORMAL_CLOSERS = ["lol", "tbh", "imo", "just saying", "fr", "idk", "anyway"]
INFORMAL_SUBS = [(r"\byou\b", "u"), (r"\byour\b", "ur"), (r"\bbecause\b", "cuz"),
                 (r"\bthough\b", "tho"), (r"\bgoing to\b", "gonna"), (r"\bwant to\b", "wanna"),
                 (r"\bkind of\b", "kinda"), (r"\bdon't\b", "dont"), (r"\bcan't\b", "cant"),
                 (r"\bdidn't\b", "didnt"), (r"\bit's\b", "its"), (r"\bI'm\b", "im"),
                 (r"\bwasn't\b", "wasnt"), (r"\bisn't\b", "isnt"), (r"\bI've\b", "ive"),
                 (r"\bwon't\b", "wont")]

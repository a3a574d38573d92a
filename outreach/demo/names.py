"""The invented town of the demonstration and the names its people are given (all made up)."""

TOWN = "Val-d'Aurelle"
WOMEN = ["Jeanne", "Simone", "Odette", "Yvette", "Paulette", "Germaine", "Suzanne", "Ginette",
         "Colette", "Monique", "Denise", "Micheline", "Huguette", "Arlette", "Josiane", "Lucienne",
         "Fernande", "Renée", "Marguerite", "Solange"]
MEN = ["Marcel", "Roger", "André", "Lucien", "Raymond", "Henri", "Georges", "Maurice", "René",
       "Gilbert", "Robert", "Albert", "Gérard", "Jacques"]
ADULT_WOMEN = ["Sandrine", "Nathalie", "Samira", "Laetitia", "Fatou", "Aurélie", "Karima",
               "Jessica", "Stéphanie", "Mélanie"]
ADULT_MEN = ["Sébastien", "Mickaël", "Mamadou", "Julien", "Nicolas", "Farid", "Kevin", "Ludovic"]
STREETS = ["rue des Lilas", "avenue du Général-Leclerc", "rue Pasteur", "impasse des Roses",
           "rue Victor-Hugo", "chemin du Moulin", "rue de la République", "allée des Peupliers",
           "résidence les Charmilles, bâtiment B", "rue du Lavoir", "place du Marché"]
QUARTERS = [TOWN, TOWN, f"Saint-Martin, {TOWN}", f"Villiers, {TOWN}"]
KIN = ["fille", "fils", "nièce", "neveu", "voisine", "voisin"]

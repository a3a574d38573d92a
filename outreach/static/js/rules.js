// Rules a definition may add to its fields, checked in the page as the server checks them
// (outreach/forms: "format" in fieldtypes.py, "age_rule" in age_problem).
// The shapes a text field may be given ("format"), with the French message when it has not.
export const FORMATS = {
  telephone_fr: [/^(?:(?:\+|00)33[\s.-]?|0)[1-9](?:[\s.-]?\d{2}){4}$/,
    "Numéro de téléphone français attendu (ex. 05 55 12 34 56)."],
};

// A birth date below its category's minimum age at a date (the register's eligibility).
export function ageProblem(field, data, definition) {
  const rule = field.age_rule;
  const [born, at, category] = [data[field.key], data[rule.at], data[rule.category]];
  if (!born || !at || !category || !(category in rule.minimum)) return null;
  const [by, bm, bd] = born.split("-").map(Number);
  const [ay, am, ad] = at.split("-").map(Number);
  const age = ay - by - ((am < bm || (am === bm && ad < bd)) ? 1 : 0);
  const minimum = rule.minimum[category];
  if (age >= minimum) return null;
  const choices = definition.fields.find((f) => f.key === rule.category).choices;
  const label = choices.find((c) => c.value === category)?.label || category;
  return `Pour « ${label} », il faut avoir ${minimum} ans à la date de la demande : `
    + `la personne en a ${Math.max(age, 0)}.`;
}


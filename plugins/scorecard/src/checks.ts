// The documentation-hygiene checks. Pure functions of the three entity fields the plugin reads
// from the core (title, description, tags): no I/O, so a score depends only on what the core
// answered.

/** The entity fields a check reads, as the core's entitiesByRefs returns them. */
export interface EntityDocs {
  title: string | null;
  description: string | null;
  tags: readonly string[];
}

/** One check's outcome, as `ScorecardCheckResult` returns it. */
export interface CheckResult {
  id: string;
  passed: boolean;
  message: string;
}

/** An entity's scorecard, as `ScorecardResult` returns it. */
export interface Scorecard {
  score: number;
  checks: CheckResult[];
}

/** A check, as `ScorecardCheckInfo` lists it, with the function that runs it. */
export interface Check {
  id: string;
  description: string;
  run(entity: EntityDocs): { passed: boolean; message: string };
}

/** The shortest description that passes `has-description`. */
export const MIN_DESCRIPTION_LENGTH = 20;

// Counted in code points, not UTF-16 units, so "Läuft" or an emoji counts as a reader sees it.
function length(text: string): number {
  return [...text].length;
}

export const CHECKS: readonly Check[] = [
  {
    id: "has-title",
    description: "The entity has a display title (`metadata.title`) that is not blank.",
    run: ({ title }) =>
      title !== null && title.trim() !== ""
        ? { passed: true, message: "The entity has a title." }
        : { passed: false, message: "Add `metadata.title`: a display title for the entity." },
  },
  {
    id: "has-description",
    description:
      `The entity has a description (\`metadata.description\`) of at least ${MIN_DESCRIPTION_LENGTH} ` +
      "characters, leading and trailing spaces aside.",
    run: ({ description }) => {
      const text = description?.trim() ?? "";
      if (text === "") {
        return { passed: false, message: "Add `metadata.description`: what the entity is and does." };
      }
      // A one-word placeholder ("TODO", "API") says nothing; 20 characters is about four words.
      const n = length(text);
      return n >= MIN_DESCRIPTION_LENGTH
        ? { passed: true, message: "The entity has a description." }
        : {
            passed: false,
            message: `The description has ${n} characters; write at least ${MIN_DESCRIPTION_LENGTH}.`,
          };
    },
  },
  {
    id: "has-tags",
    description: "The entity has at least one tag (`metadata.tags`).",
    run: ({ tags }) =>
      tags.length > 0
        ? { passed: true, message: `The entity has ${tags.length} tag${tags.length === 1 ? "" : "s"}.` }
        : { passed: false, message: "Add at least one tag to `metadata.tags`, so the entity can be found." },
  },
];

/** Runs every check; the score is the share of checks passed, 0 to 100, rounded. */
export function scorecard(entity: EntityDocs): Scorecard {
  const checks = CHECKS.map((check) => ({ id: check.id, ...check.run(entity) }));
  const passed = checks.filter((c) => c.passed).length;
  return { score: Math.round((100 * passed) / checks.length), checks };
}

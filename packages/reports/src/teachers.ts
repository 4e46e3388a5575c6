import type { ResultsFile } from './schema.js';

/**
 * `results` with every model that taught another model of the run marked as a teacher: its
 * `taught` lists those students, in the run's order (from each student's `teacher.name`). A
 * teacher that was not evaluated in the run has no entry to mark; the report says so. A
 * several-teacher student (`teachers`) counts for its primary role's teacher only (`teacher`, e.g.
 * MTARD's robust one): a clean teacher is not robust by design, so the verdicts and student-teacher
 * comparisons that read a teacher as the robust model to match would misjudge it.
 */
export function markTeachers(results: ResultsFile): ResultsFile {
  const taught = new Map<string, string[]>();
  for (const [name, model] of Object.entries(results.models)) {
    const teacher = model.teacher?.name;
    if (teacher !== undefined && teacher !== name && results.models[teacher]) taught.set(teacher, [...(taught.get(teacher) ?? []), name]);
  }
  const models = Object.fromEntries(
    Object.entries(results.models).map(([name, model]) => {
      const { taught: _old, ...rest } = model;
      const students = taught.get(name);
      return [name, students ? { ...rest, taught: students } : rest];
    }),
  );
  return { ...results, models };
}

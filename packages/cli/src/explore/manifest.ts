/**
 * What `tempered explore` tells its page about a run (GET /run/manifest.json). Types only: the
 * page (bundled for the browser) and the server (Node) both import this file.
 */
export interface ExplorerManifest {
  /** The run's config name. */
  readonly name: string;
  /** Models to attack, in the order of the run config (students, then the teacher). */
  readonly models: readonly { readonly name: string; readonly method?: string }[];
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  /** The first `count` evaluation examples: pixels at /run/digits.bin (float32, [count, ...inputShape]). */
  readonly digits: { readonly count: number; readonly labels: readonly number[]; readonly dataset: string };
  /** The attacks the page offers, with the run's own parameters where its config sets them. */
  readonly attacks: readonly ExplorerAttack[];
}

export interface ExplorerAttack {
  readonly name: 'fgsm' | 'pgd' | 'cw';
  readonly label: string;
  /** Parameters other than ε (the page's slider sets ε for FGSM and PGD). */
  readonly params: Record<string, unknown>;
}

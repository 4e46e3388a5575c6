/**
 * @tempered/cli: the `tempered` command (`run`, `bench`, `report`, `explore`, `schema`, `list`, `new`) and its
 * programmatic entry points, for scripts that drive runs without a shell.
 * @packageDocumentation
 */
import 'reflect-metadata';

export { main } from './main.js';
export { readConfig, validateConfig, configJsonSchema } from './config.js';
export type { RunConfig, PluginRef, AttackRef, MetricRef, StudentConfig, TeacherConfig } from './config.js';
export { runConfig, teacherUse, trainsClean } from './run-config.js';
export type { RunCommandOptions } from './run-config.js';
export { buildPlan, formatPlan, parseShard, shardJobs, teacherMethod, transferSourceOf } from './plan.js';
export type { Plan, Job, TrainJob, EvaluateJob, ReportJob, Shard, TeacherUse } from './plan.js';
export { preflight, runContainer, checkOutputDir } from './run.js';
export type { RunOptions, RunState } from './run.js';
export {
  registerBuiltins, registerUserPlugins, resolvePluginModule, pluginSchemas, pluginListing, teacherFreeMethods, checkSingleCopies,
  BUILTIN_MODULES, SINGLE_COPY_PACKAGES,
} from './plugins.js';
export { COMMANDS, commandHelp, mainHelp, parseCommand, synopsis } from './commands.js';
export type { CommandSpec, OptionSpec } from './commands.js';
export { newPluginCommand, NEW_PLUGIN_KINDS } from './new-plugin.js';
export type { PluginSearch } from './plugins.js';
export { benchCommand } from './bench.js';
export type { BenchValues } from './bench.js';

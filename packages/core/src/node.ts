/**
 * @tempered/core/node: the Node-only half of core, everything that touches the file system.
 * Model files (`model.json` + `weights.bin`), atomic writes, checkpoints and their trainer
 * listener, and the JSONL event log. The main entry `@tempered/core` stays browser-safe; in a
 * browser, load a saved model with `tf.loadLayersModel(url)` (the files are the standard
 * TensorFlow.js layers format).
 *
 * It re-exports the main entry too, so a Node program can import everything from here: moving
 * to the split is one import path.
 * @packageDocumentation
 */
export * from './index.js';
export { saveLayersModel, loadLayersModel, fileSaveHandler, fileLoadHandler, verifyModelFiles, weightBytes } from './io.js';
export { writeFileAtomic, writeJsonAtomic, removeStaleTemporaries, sha256Hex } from './fs.js';
export { saveCheckpoint, loadCheckpoint, hasCheckpoint, readCheckpointManifest, CHECKPOINT_FORMAT } from './checkpoint.js';
export type { CheckpointManifest, TensorEntry } from './checkpoint.js';
export { CheckpointListener } from './listeners/checkpoint.js';
export type { CheckpointListenerOptions } from './listeners/checkpoint.js';
export { JsonlLogger } from './listeners/jsonl.js';

// Every spec process needs decorator metadata for tsyringe and quiet, deterministic tfjs.
import 'reflect-metadata';

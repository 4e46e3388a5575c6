// Every spec process needs decorator metadata for tsyringe.
import 'reflect-metadata';
import fc from 'fast-check';

// Property specs draw randomized inputs from one seed, so a CI run is reproducible and a failure
// can be replayed. Explore new inputs locally with FC_SEED=<n> (or FC_SEED=random).
const seed = process.env.FC_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.FC_SEED ?? 20_161_122);
fc.configureGlobal({ seed });

import { describeReduction } from '../spec-support/reduction-spec.js';

describeReduction('Mean');

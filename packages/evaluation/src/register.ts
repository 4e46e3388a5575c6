import type { DependencyContainer } from 'tsyringe';
import { TOKENS, classPlugin, factoryPlugin, registerPlugin } from '@tempered/core';
import { ADVERSARIAL_ROBUSTNESS_PARAMS, AdversarialRobustnessMetric } from './metrics/adversarial-robustness.js';
import { AGREEMENT_PARAMS, AgreementMetric } from './metrics/agreement.js';
import { CLEAN_ACCURACY_PARAMS, CleanAccuracyMetric } from './metrics/clean-accuracy.js';
import { CONFIDENCE_PARAMS, ConfidenceMetric } from './metrics/confidence.js';
import { DISTORTION_PARAMS, DistortionMetric } from './metrics/distortion.js';
import { EVALUATED_MODEL, GRADIENT_NORMS_PARAMS, GradientNormsMetric } from './metrics/gradient-norms.js';
import { ROBUST_ACCURACY_PARAMS, RobustAccuracyMetric } from './metrics/robust-accuracy.js';
import { SUCCESS_RATE_PARAMS, SuccessRateMetric } from './metrics/success-rate.js';
import { ConfigError } from '@tempered/core';

/** Registers every metric of @tempered/evaluation under {@link TOKENS.Metric}, by name. */
export function register(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.Metric, classPlugin('clean-accuracy', CleanAccuracyMetric, { description: 'Share of clean examples classified correctly', params: CLEAN_ACCURACY_PARAMS }));
  registerPlugin(container, TOKENS.Metric, classPlugin('robust-accuracy', RobustAccuracyMetric, { description: 'Share of examples correct on clean and every adversarial row', params: ROBUST_ACCURACY_PARAMS }));
  registerPlugin(container, TOKENS.Metric, classPlugin('success-rate', SuccessRateMetric, { description: 'Share of attacked correctly classified rows the attack flipped (untargeted) or sent to the target (targeted)', params: SUCCESS_RATE_PARAMS }));
  registerPlugin(container, TOKENS.Metric, classPlugin('distortion', DistortionMetric, { description: 'Mean and median L0/L2/L∞ of successful perturbations', params: DISTORTION_PARAMS }));
  registerPlugin(container, TOKENS.Metric, classPlugin('adversarial-robustness', AdversarialRobustnessMetric, { description: 'ρ_adv: mean fraction of input values JSMA changes (Papernot et al. 2016)', params: ADVERSARIAL_ROBUSTNESS_PARAMS }));
  registerPlugin(container, TOKENS.Metric, classPlugin('confidence', ConfidenceMetric, { description: 'C(X): mean max softmax probability on correct examples', params: CONFIDENCE_PARAMS }));
  registerPlugin(container, TOKENS.Metric, classPlugin('agreement', AgreementMetric, { description: 'Share of examples where teacher and student argmax agree', params: AGREEMENT_PARAMS }));
  registerPlugin(
    container,
    TOKENS.Metric,
    factoryPlugin(
      'gradient-norms',
      (params, scope) => {
        if (!scope.isRegistered(EVALUATED_MODEL, true)) {
          throw new ConfigError('gradient-norms', 'needs the evaluated model registered as EVALUATED_MODEL in the container');
        }
        return new GradientNormsMetric(params, scope.resolve(EVALUATED_MODEL));
      },
      { description: 'Log-binned histogram of input-gradient norms at T = 1', params: GRADIENT_NORMS_PARAMS },
    ),
  );
}

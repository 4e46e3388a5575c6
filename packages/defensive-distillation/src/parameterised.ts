import { defineParams, validateParams } from '@tempered/core';
import type { ParamSpecs, ParamValues } from '@tempered/core';

/**
 * Whitelisted, defaulted, validated parameters (IBM ART style) for every plugin of this package:
 * validated in the constructor and again in `setParams`, errors naming `<plugin>.<field>`.
 */
export abstract class Parameterised<S extends ParamSpecs> {
  protected values: ParamValues<S>;

  protected constructor(
    readonly name: string,
    private readonly spec: S,
    params: Readonly<Record<string, unknown>> | undefined,
  ) {
    this.values = validateParams(name, spec, params);
  }

  /** Current parameters (a copy). */
  params(): Record<string, unknown> {
    return { ...this.values };
  }

  /** Validates and merges `params`; on error the previous values are kept. */
  setParams(params: Readonly<Record<string, unknown>>): void {
    this.values = validateParams(this.name, this.spec, params, this.values);
  }
}

/** The `temperature` parameter of the losses: 0 defers to the stage's T in the loss context. */
export const LOSS_TEMPERATURE_PARAM = defineParams({
  temperature: {
    type: 'number',
    default: 0,
    min: 0,
    description: 'Softmax temperature T; 0 (default) uses the training stage’s T from the loss context',
  },
});

// The ContractError a validator call throws (the test fails when it passes instead).
import { ContractError } from '../../preload/contract.js';

export function refusal(fn: () => unknown): ContractError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ContractError) return e;
    throw e;
  }
  throw new Error('not refused');
}

import type { Finding } from '../../core/checks/types.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';

/**
 * `secrets check`'s `fleet` check, only for a policy with a fleet: section: hosts behind the
 * fleet, a pending rotation past its deadline, member keys near expiry, etcd unreachable (a
 * warning: every local check still runs). The fleet code and etcd's client load only here.
 */
export async function checkFleet(input: CheckInput, deps: Deps): Promise<Finding[]> {
  if (!input.policy.doc.fleet) return [];
  const { fleetFindings } = await import('../fleet/status.js');
  return fleetFindings(input.policy, input.now, deps);
}

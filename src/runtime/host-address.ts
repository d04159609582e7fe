import type { NetworkInterfaceInfo } from 'node:os';

/**
 * The address other sidecars dial to reach this one, as daprd picks it: `DAPR_HOST_IP` when
 * set, else the internal gRPC listen address when it names one host, else the first
 * non-internal IPv4 address, else loopback. Inputs are passed in because only `cmd/` reads
 * process-wide state.
 */
export function hostAddress(
  env: Readonly<Record<string, string | undefined>>,
  interfaces: Readonly<Record<string, readonly NetworkInterfaceInfo[] | undefined>>,
  internalListenAddress: string | undefined,
): string {
  const fromEnv = env.DAPR_HOST_IP;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (
    internalListenAddress !== undefined &&
    internalListenAddress !== '' &&
    internalListenAddress !== '0.0.0.0' &&
    internalListenAddress !== '::'
  ) {
    return internalListenAddress;
  }
  for (const addresses of Object.values(interfaces)) {
    for (const info of addresses ?? []) {
      if (info.family === 'IPv4' && !info.internal) return info.address;
    }
  }
  return '127.0.0.1';
}

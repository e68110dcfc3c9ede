/**
 * How a device is named in debug listings: its own `label` when it has one, else a
 * number given the first time it is seen. Held weakly, so a listing never keeps a device
 * alive.
 */
const numbers = new WeakMap<object, number>();
let next = 1;

/** The name of `device` for listings and messages. */
export function deviceLabel(device: GPUDevice): string {
  if (typeof device.label === 'string' && device.label !== '') return device.label;
  let number = numbers.get(device);
  if (number === undefined) {
    number = next++;
    numbers.set(device, number);
  }
  return `device #${number}`;
}

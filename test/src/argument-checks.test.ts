// The argument checks every public call shares (src/checks.ts): what each accepts, and the
// code, call and reason of the error it gives for what it refuses. A refused argument is named
// in the reason by a short rendering of it, so a reader can tell which value was wrong.
import { describe as suite, expect, test } from 'vitest';
import { booleanOption, brandError, checkBrand, checkInteger, checkOptions, checkRange, describe, RECEIVER, type Brand } from '../../src/checks.js';
import { thrown } from './refusal.js';

/** A class with a private field, branded as the contract's classes are. */
class Widget {
  readonly #own = true;
  static has(value: unknown): value is Widget {
    return typeof value === 'object' && value !== null && #own in value;
  }
  get own(): boolean {
    return this.#own;
  }
}

const WIDGET: Brand<Widget> = { noun: 'a Widget', variable: 'widget', prototype: Widget.prototype, has: (value): value is Widget => Widget.has(value) };

suite('describe', () => {
  test('renders each kind of value by what it is', () => {
    expect(describe(3)).toBe('3');
    expect(describe(true)).toBe('true');
    expect(describe(false)).toBe('false');
    expect(describe(12n)).toBe('12');
    expect(describe(null)).toBe('null');
    expect(describe(undefined)).toBe('undefined');
    expect(describe(() => 1)).toBe('a function');
    expect(describe([1, 2])).toBe('an array');
    expect(describe(Symbol('s'))).toBe('a symbol');
    expect(describe({ a: 1 })).toBe('an object');
    expect(describe(new Widget())).toBe('an object');
  });

  test('quotes a string, cut to its first 40 characters with an ellipsis when longer', () => {
    const forty = 'x'.repeat(40);
    expect(describe('fd')).toBe('"fd"');
    expect(describe(forty)).toBe(`"${forty}"`);
    expect(describe(`${forty}yz`)).toBe(`"${forty}…"`);
  });

  test('a revoked Proxy, whose chain and array-ness cannot be read, is just an object', () => {
    const array = Proxy.revocable([1], {});
    array.revoke();
    expect(describe(array.proxy)).toBe('an object');
    const widget = Proxy.revocable(new Widget(), {});
    widget.revoke();
    expect(describe(widget.proxy, WIDGET)).toBe('an object');
  });

  test('given the expected brand, it names a Proxy or an Object.create of an instance a look-alike', () => {
    const lookAlike = 'a look-alike of a Widget (a Proxy or Object.create of one)';
    expect(describe(new Proxy(new Widget(), {}), WIDGET)).toBe(lookAlike);
    expect(describe(Object.create(Widget.prototype), WIDGET)).toBe(lookAlike);
  });

  test('given the expected brand, an instance itself, a primitive, null or a function is no look-alike', () => {
    expect(describe(new Widget(), WIDGET)).toBe('an object');
    expect(describe(7, WIDGET)).toBe('7');
    expect(describe('w', WIDGET)).toBe('"w"');
    expect(describe(null, WIDGET)).toBe('null');
    expect(describe(undefined, WIDGET)).toBe('undefined');
    // A function with the class's prototype in its chain is still a function, not an instance's stand-in.
    const fn = Object.setPrototypeOf(() => 1, Widget.prototype) as unknown;
    expect(describe(fn, WIDGET)).toBe('a function');
  });
});

suite('checkInteger', () => {
  test('accepts a safe integer at or above the minimum', () => {
    expect(() => { checkInteger('call', 'n', 0, 0); }).not.toThrow();
    expect(() => { checkInteger('call', 'n', 1, 1); }).not.toThrow();
    expect(() => { checkInteger('call', 'n', 5, 5); }).not.toThrow();
    expect(() => { checkInteger('call', 'n', Number.MAX_SAFE_INTEGER, 0); }).not.toThrow();
  });

  test('refuses with EINVAL by default, naming the call, the value and what was expected for its minimum', () => {
    expect(thrown(() => { checkInteger('seek', 'offset', -1, 0); })).toMatchObject({ code: 'EINVAL', call: 'seek', reason: 'offset must be a non-negative integer, got -1' });
    expect(thrown(() => { checkInteger('seek', 'count', 0, 1); })).toMatchObject({ code: 'EINVAL', call: 'seek', reason: 'count must be a positive integer, got 0' });
    expect(thrown(() => { checkInteger('seek', 'step', 3, 4); })).toMatchObject({ code: 'EINVAL', call: 'seek', reason: 'step must be an integer >= 4, got 3' });
  });

  test('refuses a fraction, an unsafe integer, NaN and anything that is not a number, with the code it is given', () => {
    for (const value of [1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, Infinity, '3', 3n, null, undefined, [3]]) {
      const error = thrown(() => { checkInteger('call', 'n', value, 0, 'ERANGE'); });
      expect(error.code).toBe('ERANGE');
      expect(error.reason).toBe(`n must be a non-negative integer, got ${describe(value)}`);
    }
  });
});

suite('checkRange', () => {
  test('accepts a non-empty range that ends at or before the size', () => {
    expect(() => { checkRange('call', 0, 8, 8); }).not.toThrow();
    expect(() => { checkRange('call', 7, 1, 8); }).not.toThrow();
  });

  test('names start or len when either is not an integer of its range', () => {
    expect(thrown(() => { checkRange('access', -1, 4, 8); })).toMatchObject({ code: 'EINVAL', call: 'access', reason: 'start must be a non-negative integer, got -1' });
    expect(thrown(() => { checkRange('access', 0, 0, 8); })).toMatchObject({ code: 'EINVAL', call: 'access', reason: 'len must be a positive integer, got 0' });
  });

  test('refuses a range past the size, naming the range and the size', () => {
    expect(thrown(() => { checkRange('access', 6, 3, 8); })).toMatchObject({ code: 'EINVAL', call: 'access', reason: "range [6, 9) goes beyond the buffer's 8 bytes" });
  });
});

suite('checkOptions and booleanOption', () => {
  test('undefined options read as an empty bag, and an object as itself', () => {
    expect(checkOptions('call', undefined)).toEqual({});
    const bag = { a: 1 };
    expect(checkOptions('call', bag)).toBe(bag);
  });

  test('options that are not a plain object are refused, naming what they are', () => {
    for (const [value, shown] of [[null, 'null'], [[], 'an array'], [3, '3'], ['x', '"x"'], [() => 1, 'a function']] as const) {
      expect(thrown(() => checkOptions('open', value))).toMatchObject({ code: 'EINVAL', call: 'open', reason: `options must be an object, got ${shown}` });
    }
  });

  test('a boolean option is its value, its default when absent, and refused when not a boolean', () => {
    expect(booleanOption('open', { flag: false }, 'flag', true)).toBe(false);
    expect(booleanOption('open', { flag: true }, 'flag', false)).toBe(true);
    expect(booleanOption('open', {}, 'flag', true)).toBe(true);
    expect(booleanOption('open', {}, 'flag', false)).toBe(false);
    expect(thrown(() => booleanOption('open', { flag: 1 }, 'flag', true))).toMatchObject({ code: 'EINVAL', call: 'open', reason: 'flag must be a boolean, got 1' });
  });
});

suite('brandError and checkBrand', () => {
  test('an instance itself passes', () => {
    const widget = new Widget();
    expect(brandError('use', widget, WIDGET)).toBeUndefined();
    expect(() => { checkBrand('use', widget, WIDGET); }).not.toThrow();
    expect(widget.own).toBe(true);
  });

  test('anything else is refused with EINVAL, saying what was expected and what came', () => {
    expect(brandError('use', 4, WIDGET)).toMatchObject({ code: 'EINVAL', call: 'use', reason: 'expected a Widget, got 4' });
    expect(brandError('use', {}, WIDGET, 'the target')).toMatchObject({ code: 'EINVAL', call: 'use', reason: 'the target must be a Widget, got an object' });
    expect(thrown(() => { checkBrand('use', null, WIDGET, RECEIVER); })).toMatchObject({
      code: 'EINVAL',
      call: 'use',
      reason: 'the object it is called on must be a Widget, got null',
    });
  });

  test('a look-alike argument is told to pass the object itself', () => {
    expect(brandError('use', new Proxy(new Widget(), {}), WIDGET, 'the target')).toMatchObject({
      code: 'EINVAL',
      call: 'use',
      reason: 'the target must be a Widget itself, got a look-alike of a Widget (a Proxy or Object.create of one); pass the object itself (in Vue: toRaw(widget), or markRaw it when you store it)',
    });
    expect(brandError('use', Object.create(Widget.prototype), WIDGET)?.reason).toBe(
      'expected a Widget itself, got a look-alike of a Widget (a Proxy or Object.create of one); pass the object itself (in Vue: toRaw(widget), or markRaw it when you store it)',
    );
  });

  test('a look-alike receiver is told to call the method on the object itself', () => {
    expect(thrown(() => { checkBrand('use', new Proxy(new Widget(), {}), WIDGET, RECEIVER); })).toMatchObject({
      code: 'EINVAL',
      call: 'use',
      reason: 'the object it is called on must be a Widget itself, got a look-alike of a Widget (a Proxy or Object.create of one); call it on the object itself (in Vue: toRaw(widget), or markRaw it when you store it)',
    });
  });
});

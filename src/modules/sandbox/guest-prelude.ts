/**
 * The JavaScript that runs inside a sandbox context before the module, once per prepared instance:
 * it takes the one host function (`__xai(op, payload) → reply`) and the helper list off the global
 * object, removes what is not deterministic (Date is not even created; Math.random, WeakRef and
 * FinalizationRegistry, SharedArrayBuffer and Atomics are deleted), builds the `require` a module
 * gets (`xai/modules`, `zod`, `viem` as thin shims over host calls) and evaluates the module. Its
 * completion value is the dispatcher: a function the host calls once per invocation with the
 * encoded invocation (what to run, the context's values) and which answers the encoded reply. The
 * host takes a snapshot of the instance's memory after this has run and puts it back after every
 * invocation (see sandbox.ts), so nothing an invocation does reaches the next one.
 *
 * Everything here runs in the guest: a module that tampers with it harms only its own call.
 */
export const GUEST_PRELUDE = String.raw`
'use strict';
var __xaiRun = (function () {
  var host = globalThis.__xai;
  var input = globalThis.__xaiInput;
  delete globalThis.__xai;
  delete globalThis.__xaiInput;
  var JSONparse = JSON.parse, JSONstringify = JSON.stringify, isArray = Array.isArray, keys = Object.keys, getProto = Object.getPrototypeOf;
  var ObjectProto = Object.prototype, defineProperty = Object.defineProperty, freeze = Object.freeze, BigIntFn = BigInt, U8 = Uint8Array;
  var ZOD = Symbol('zod');
  Math.random = function () { throw new Error('Math.random is not deterministic: modules have no randomness') };
  ['WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'Atomics', 'WebAssembly', 'Date'].forEach(function (name) { delete globalThis[name] });

  var HEX = '0123456789abcdef';
  function enc(value, depth) {
    if (depth > 64) throw new Error('a value nested deeper than 64 cannot leave the sandbox');
    var type = typeof value;
    if (type === 'bigint') return {$n: value.toString()};
    if (type === 'undefined') return {$x: 1};
    if (type === 'number') { if (value !== value || value === Infinity || value === -Infinity) throw new Error('the number ' + value + ' cannot leave the sandbox'); return value }
    if (type === 'string' || type === 'boolean' || value === null) return value;
    if (type === 'function') {
      var chain = value[ZOD];
      if (!chain) return {$fn: 1};
      return {$z: chain.map(function (step) { return step.length === 1 ? [step[0]] : [step[0], step[1].map(function (arg) { return enc(arg, depth + 1) })] })};
    }
    if (type !== 'object') throw new Error('a ' + type + ' cannot leave the sandbox');
    if (value instanceof U8) { var s = ''; for (var i = 0; i < value.length; i++) s += HEX[value[i] >> 4] + HEX[value[i] & 15]; return {$u: s} }
    if (isArray(value)) { var arr = []; for (var j = 0; j < value.length; j++) arr.push(enc(value[j], depth + 1)); return arr }
    var proto = getProto(value);
    if (proto !== ObjectProto && proto !== null) throw new Error('only plain objects, arrays, strings, numbers, booleans, bigints and Uint8Array can leave the sandbox');
    var out = {};
    var ks = keys(value);
    for (var k = 0; k < ks.length; k++) defineProperty(out, ks[k][0] === '$' ? '$' + ks[k] : ks[k], {value: enc(value[ks[k]], depth + 1), enumerable: true, writable: true, configurable: true});
    return out;
  }
  function dec(value) {
    if (value === null || typeof value !== 'object') return value;
    if (isArray(value)) return value.map(dec);
    var ks = keys(value);
    if (ks.length === 1) {
      if (ks[0] === '$n') return BigIntFn(value.$n);
      if (ks[0] === '$x') return undefined;
      if (ks[0] === '$u') { var h = value.$u, bytes = new U8(h.length / 2); for (var i = 0; i < bytes.length; i++) bytes[i] = parseInt(h.substr(i * 2, 2), 16); return bytes }
    }
    var out = {};
    for (var k = 0; k < ks.length; k++) defineProperty(out, ks[k][0] === '$' ? ks[k].slice(1) : ks[k], {value: dec(value[ks[k]]), enumerable: true, writable: true, configurable: true});
    return out;
  }
  function encode(value) { return JSONstringify(enc(value, 0)) }
  function call(op, args) {
    var reply = JSONparse(host(op, encode(args)));
    if (reply.e !== undefined) throw new Error(reply.e);
    return dec(reply.v);
  }

  // ----- zod: a recorder of schema chains, parsed by the host ---------------------------------
  function recorder(chain) {
    var target = function () {};
    var self = new Proxy(target, {
      get: function (_t, key) {
        if (key === ZOD) return chain;
        if (typeof key !== 'string' || key === 'then') return undefined;
        if (key === 'parse' || key === 'safeParse') return function (value) { return call('zod', [self, key, value]) };
        return recorder(chain.concat([[key]]));
      },
      apply: function (_t, _self, args) {
        var last = chain[chain.length - 1];
        if (!last || last.length !== 1) throw new TypeError('not a function');
        return recorder(chain.slice(0, -1).concat([[last[0], Array.prototype.slice.call(args)]]));
      },
      set: function () { return false },
      defineProperty: function () { return false },
    });
    return self;
  }
  var z = recorder([]);
  var zod = freeze({z: z, default: z});

  // ----- viem and xai/modules: pure helpers computed by the host ------------------------------
  function helpers(op, names, constants) {
    var out = {};
    names.forEach(function (name) { out[name] = function () { return call(op, [name, Array.prototype.slice.call(arguments)]) } });
    for (var key in constants) out[key] = constants[key];
    return freeze(out);
  }
  var setup = dec(JSONparse(input));
  var viem = helpers('viem', setup.viem, setup.viemConstants);
  var xaiModules = helpers('xai', setup.xai, setup.xaiConstants);
  var STORAGE = Symbol('storage');
  ['readBytes', 'writeBytes', 'readString', 'writeString'].forEach(function (name) {
    xaiModules = Object.assign({}, xaiModules);
    xaiModules[name] = function (storage, slot, value) {
      if (!storage || storage[STORAGE] !== true) throw new Error(name + ': pass ctx.storage');
      return call('xai', [name, arguments.length > 2 ? [slot, value] : [slot]]);
    };
  });
  // revert(reason) ends the call as a revert with that reason, as on the host (any guest throw does).
  xaiModules = Object.assign({}, xaiModules);
  xaiModules.revert = function (reason) { throw new Error(String(reason)) };
  xaiModules = freeze(xaiModules);
  var allowed = {'xai/modules': xaiModules, zod: zod, viem: viem};
  function require(specifier) {
    if (Object.prototype.hasOwnProperty.call(allowed, specifier)) return allowed[specifier];
    throw new Error('the module imports "' + specifier + '"; a module is one file and may import only xai/modules, zod, viem');
  }

  // ----- the module's context -----------------------------------------------------------------
  function context(env, writable) {
    var storage = {get: function (slot) { return call('get', [slot]) }};
    if (writable) storage.set = function (slot, value) { call('set', [slot, value]) };
    defineProperty(storage, STORAGE, {value: true});
    var ctx = {
      height: env.height, timestamp: env.timestamp, coinbase: env.coinbase, self: env.self, sender: env.sender, value: env.value,
      params: deepFreeze(env.params),
      balanceOf: function (address) { return call('balanceOf', [address]) },
      balanceAt: function (address, height) { return call('balanceAt', [address, height]) },
      isContract: function (address) { return call('isContract', [address]) },
      storage: freeze(storage),
    };
    if (writable) {
      ctx.emit = function (name, args) { call('emit', [name, args]) };
      ctx.transfer = function (to, amount) { call('transfer', [to, amount]) };
      ctx.chargeGas = function (amount) { call('gas', [amount]) };
      ctx.call = function (target, name, args) { return call('call', [target, name, args === undefined ? [] : args]) };
    }
    return freeze(ctx);
  }
  function deepFreeze(value) {
    if (value !== null && typeof value === 'object' && !(value instanceof U8)) { keys(value).forEach(function (k) { deepFreeze(value[k]) }); freeze(value) }
    return value;
  }

  return function (moduleFactory) {
    var exports = {};
    moduleFactory(require, exports);
    var mod = exports.default !== undefined ? exports.default : exports;
    if (mod === null || typeof mod !== 'object') throw new Error('the module source does not export a native module as its default export');
    return function (invocationText) {
      var invocation = dec(JSONparse(invocationText));
      var kind = invocation.kind, result;
      if (kind === 'describe') {
        var hooks = {};
        ['validateTx', 'checkTx', 'afterTx', 'beginBlock', 'endBlock'].forEach(function (name) { hooks[name] = typeof mod[name] === 'function' });
        var calls = mod.calls && typeof mod.calls === 'object' ? keys(mod.calls).filter(function (name) { return typeof mod.calls[name] === 'function' }) : null;
        result = {manifest: mod.manifest, abi: mod.abi, gas: mod.gas, params: typeof mod.params === 'function' && mod.params[ZOD] ? mod.params : null, calls: calls, hooks: hooks};
      } else if (kind === 'call') {
        var handler = mod.calls[invocation.name];
        if (typeof handler !== 'function') throw new Error('the module does not implement ' + invocation.name);
        result = handler.call(mod.calls, context(invocation.env, true), invocation.args);
      } else if (kind === 'validateTx' || kind === 'checkTx') {
        result = mod[kind](invocation.tx, context(invocation.env, false));
      } else if (kind === 'afterTx') {
        mod.afterTx(invocation.tx, invocation.outcome, context(invocation.env, true), invocation.verdict);
      } else {
        mod[kind](context(invocation.env, true));
      }
      return encode(result);
    };
  };
})();
`

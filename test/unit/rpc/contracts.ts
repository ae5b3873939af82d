/** Solidity the RPC tests deploy (compiled once per run with solc-js, see test/helpers/solidity.ts). */
export const PROBE_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

contract Probe {
    uint256 public value;
    mapping(address => uint256) public balanceOf;

    event Stored(address indexed who, uint256 indexed value, bytes data);
    event Other(uint256 n);

    error Custom(uint256 code, string why);

    constructor() {
        balanceOf[msg.sender] = 1000;
    }

    function store(uint256 v) external {
        value = v;
        emit Stored(msg.sender, v, hex"c0ffee");
    }

    function other(uint256 n) external {
        emit Other(n);
    }

    function clear() external {
        value = 0;
    }

    function failCustom(uint256 code) external pure {
        revert Custom(code, "nope");
    }

    function failReason() external pure {
        require(false, "reason here");
    }

    function failEmpty() external pure {
        revert();
    }

    function divide(uint256 a, uint256 b) external pure returns (uint256) {
        return a / b;
    }

    function burn(uint256 n) external {
        for (uint256 i = 0; i < n; i++) {
            value = i + 1;
        }
    }

    function bad() external pure {
        assembly {
            invalid()
        }
    }

    function env() external view returns (address sender, uint256 number, uint256 basefee, uint256 timestamp, uint256 balance) {
        return (msg.sender, block.number, block.basefee, block.timestamp, msg.sender.balance);
    }

    function pay() external payable returns (uint256) {
        return msg.value;
    }

    /// Needs more than 63/64 of what it forwards: estimates must account for the 1/64 rule.
    function nested(uint256 n) external returns (uint256) {
        if (n == 0) {
            value = value + 1;
            return gasleft();
        }
        return this.nested(n - 1);
    }
}
`

/** Nested calls, logs, reverts and CREATE2 for the tracer and access-list tests (checked against anvil). */
export const TRACEE_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

contract Callee {
    uint256 public x;
    event Hit(uint256 indexed v);

    function hit(uint256 v) external payable returns (uint256) {
        x = v;
        emit Hit(v);
        return v * 2;
    }

    function boom() external pure {
        revert("boom");
    }
}

contract Caller {
    Callee public callee;
    uint256 public last;
    event Before(uint256 v);
    event After(uint256 r);

    constructor() {
        callee = new Callee();
    }

    function go(uint256 v) external payable returns (uint256) {
        emit Before(v);
        uint256 r = callee.hit{value: msg.value}(v);
        try callee.boom() {} catch {}
        (bool ok, ) = address(callee).staticcall(abi.encodeWithSignature("x()"));
        require(ok);
        last = r;
        emit After(r);
        return r;
    }

    function fail() external {
        last = 1;
        callee.boom();
    }

    function make(bytes32 salt) external returns (address) {
        return address(new Callee{salt: salt}());
    }
}
`

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

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The rule-engine native module's interface.
/// @notice The module lives at the system address 0x00000000000000000000000000000a11de4937ca. It
/// judges every transaction against the rule set governance activated: a rejected transaction
/// is refused before it runs, and each matching flag rule of an accepted one is logged.
interface IRuleEngine {
    /// @notice Emitted for each flag rule transaction `txHash` matched, as "<rule id>: <reason>".
    event RuleFlagged(bytes32 indexed txHash, string rule);

    /// @notice keccak256 of the canonical JSON of the active rule set; zero when none is active.
    function ruleSetHash() external view returns (bytes32);
}

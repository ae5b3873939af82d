// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The module registry's interface.
/// @notice The registry lives at 0x00000000000000000000000000000a1100000000. It records which
/// native modules run, at which version and code hash, from which block, with which parameters
/// (canonical JSON), the validator set, chain parameters and feature flags; governance changes
/// them. Anyone may upload a user module's source with storeCode; nodes run it only once a
/// module-activate proposal names its code hash, from the proposal's height.
interface IModuleRegistry {
    event CodeStored(bytes32 indexed codeHash, address indexed by, uint256 size);

    /// @notice The ids of every module the registry knows, active or not.
    function modules() external view returns (string[] memory);

    function moduleInfo(string calldata id) external view returns (address addr, string memory version, bytes32 codeHash, uint256 activeFrom, string memory nextVersion, bytes32 nextCodeHash, uint256 nextFrom, uint256 deactivateAt, string memory params);

    /// @notice Stores a user module's source (UTF-8); returns keccak256 of it, its code hash.
    function storeCode(bytes calldata source) external returns (bytes32);

    function hasCode(bytes32 codeHash) external view returns (bool);

    function featureFlag(string calldata name) external view returns (bool);

    /// @notice blockGasLimit, baseFeeMaxChangeDenominator or elasticityMultiplier as governance set it; 0: the genesis value.
    function chainParam(string calldata name) external view returns (uint256);
}

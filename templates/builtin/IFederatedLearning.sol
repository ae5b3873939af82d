// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The fl native module's interface: federated-learning rounds anchored on chain.
/// @notice The module lives at the system address 0x00000000000000000000000000000a1193c7803c. A federation's id is
/// keccak256(abi.encodePacked(coordinator, name)). Only the coordinator commits its rounds; round
/// numbers strictly increase and each is committed once. The updates root is a Merkle root over
/// leaves keccak256(abi.encodePacked(updateHash, client)) in the order listed, parents
/// keccak256(left, right), an odd last node moving up unchanged, bytes32(0) for no leaves; the
/// module recomputes it from the listed updates. Each accepted update is paid `reward` wei from
/// the treasury (a governance parameter; 0 stops rewards). Reputation: +10 per accepted update,
/// -5 aggregator, -20 attestation, -50 proof, -20 signature per rejection. Reasons: 0 aggregator,
/// 1 attestation, 2 proof, 3 signature. While the `verifierKey` parameter is non-zero, commits are
/// refused (this version verifies no proofs).
interface IFederatedLearning {
    event FederationRegistered(bytes32 indexed id, address indexed coordinator, bytes32 configHash, string name);
    event RoundCommitted(bytes32 indexed id, uint256 indexed round, bytes32 modelHash, bytes32 updatesRoot, uint256 accepted, uint256 rejected, uint256 epsilonMicros, bool proofsVerified);
    event RewardPaid(bytes32 indexed id, address indexed client, uint256 round, uint256 amount);
    /// @notice The treasury held less than the reward: this client was not paid for the round.
    event RewardUnpaid(bytes32 indexed id, address indexed client, uint256 round, uint256 amount);

    /// @notice Registers a federation coordinated by the sender; returns its id.
    function registerFederation(string calldata name, bytes32 configHash) external returns (bytes32);

    /// @notice keccak256(abi.encodePacked(coordinator, name)).
    function federationId(address coordinator, string calldata name) external pure returns (bytes32);

    /// @notice A federation's coordinator (zero: none), config hash and last committed round.
    function federation(bytes32 id) external view returns (address coordinator, bytes32 configHash, uint256 lastRound);

    /// @notice Commits a round: global model hash, updates root with its leaves' inputs, rejections
    /// by reason class, and epsilon spent so far in millionths (0 without differential privacy).
    function commitRound(bytes32 id, uint256 round, bytes32 modelHash, bytes32 updatesRoot, uint256 epsilonMicros, address[] calldata accepted, bytes32[] calldata updateHashes, address[] calldata rejected, uint8[] calldata reasons) external;

    /// @notice A committed round (all zero when it is not committed).
    function getRound(bytes32 id, uint256 round) external view returns (bytes32 modelHash, bytes32 updatesRoot, uint256 accepted, uint256 rejectedAggregator, uint256 rejectedAttestation, uint256 rejectedProof, uint256 rejectedSignature, uint256 epsilonMicros, bool proofsVerified, uint256 committedAt, uint256 rewardPerUpdate);

    /// @notice A client's reputation, accepted and rejected updates, and wei earned.
    function client(address who) external view returns (int256 reputation, uint256 accepted, uint256 rejected, uint256 earned);

    function clientCount() external view returns (uint256);

    function clientAt(uint256 index) external view returns (address);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The governance native module's interface.
/// @notice The module lives at the system address 0x00000000000000000000000000000a116609a5b1. A
/// proposal is the canonical JSON of a proposal file (`xai governance propose` encodes it); it is
/// Active for `votingPeriod` blocks, then Defeated, Vetoed or Queued for `timelock` blocks, and
/// executed in endBlock on every validator (Executed, or Failed with its reason). A vote weighs
/// the voter's native balance at the snapshot block (the block before submission). The events of
/// the tally and execution (ProposalQueued, ProposalExecuted, ProposalDefeated, ProposalVetoed,
/// ProposalFailed) are block events: read them with xai_getBlockEvents.
interface IGovernance {
    event ProposalCreated(uint256 indexed proposalId, address indexed proposer, uint256 voteStart, uint256 voteEnd, uint256 snapshot, bytes32 proposalHash, string kind, string title);
    event VoteCast(address indexed voter, uint256 indexed proposalId, uint8 support, uint256 weight);
    event ProposalQueued(uint256 indexed proposalId, uint256 etaBlock);
    event ProposalExecuted(uint256 indexed proposalId);
    event ProposalDefeated(uint256 indexed proposalId, string reason);
    event ProposalVetoed(uint256 indexed proposalId);
    event ProposalFailed(uint256 indexed proposalId, string reason);

    /// @notice Submits a proposal (its canonical bytes) with at least `minDeposit` wei; returns its id.
    function propose(bytes calldata proposal) external payable returns (uint256);

    /// @notice Votes on an Active proposal: 0 no, 1 yes, 2 abstain, 3 veto. Votes are final.
    function vote(uint256 proposalId, uint8 support) external;

    function proposalCount() external view returns (uint256);

    /// @notice Active, Succeeded, Defeated, Vetoed, Queued, Executed, Failed or Canceled.
    function state(uint256 proposalId) external view returns (string memory);

    function proposal(uint256 proposalId) external view returns (address proposer, uint256 submitHeight, uint256 snapshotHeight, uint256 votingEndHeight, uint256 executableHeight, string memory state, bytes memory body, string memory failureReason, bytes32 proposalHash);

    function tally(uint256 proposalId) external view returns (uint256 yes, uint256 no, uint256 abstain, uint256 veto, uint256 totalPower);

    function hasVoted(uint256 proposalId, address voter) external view returns (bool);

    /// @notice `voter`'s balance at the proposal's snapshot block.
    function votingPower(uint256 proposalId, address voter) external view returns (uint256);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "./xai/ERC20.sol";
import {Ownable} from "./xai/Ownable.sol";

/// @title VotesToken
/// @notice An ERC-20 whose balances are voting power: a holder delegates to an account (itself
/// included) and every change of a delegate's votes is checkpointed by block number, so the votes
/// an account had at any past block can be read (as a governor does at a proposal's snapshot).
/// Tokens count as votes only once delegated.
contract VotesToken is ERC20, Ownable {
    struct Checkpoint {
        uint48 fromBlock;
        uint208 votes;
    }

    mapping(address account => address) public delegates;
    mapping(address account => Checkpoint[]) private _checkpoints;
    Checkpoint[] private _supplyCheckpoints;

    event DelegateChanged(address indexed delegator, address indexed fromDelegate, address indexed toDelegate);
    event DelegateVotesChanged(address indexed delegatee, uint256 previousVotes, uint256 newVotes);

    /// @notice Past votes can only be read for blocks before the current one.
    error FutureLookup(uint256 blockNumber, uint256 currentBlock);
    /// @notice Votes do not fit in a checkpoint (2^208 - 1 at most).
    error VotesOverflow(uint256 votes);

    constructor(string memory name_, string memory symbol_, uint256 initialSupply) ERC20(name_, symbol_) Ownable(msg.sender) {
        _mint(msg.sender, initialSupply);
    }

    function mint(address to, uint256 value) external onlyOwner {
        _mint(to, value);
    }

    function burn(uint256 value) external {
        _burn(msg.sender, value);
    }

    /// @notice Gives the caller's voting power (its whole balance, now and later) to `delegatee`.
    function delegate(address delegatee) external {
        address previous = delegates[msg.sender];
        delegates[msg.sender] = delegatee;
        emit DelegateChanged(msg.sender, previous, delegatee);
        _moveVotes(previous, delegatee, balanceOf[msg.sender]);
    }

    function getVotes(address account) external view returns (uint256) {
        return _latest(_checkpoints[account]);
    }

    function getPastVotes(address account, uint256 blockNumber) external view returns (uint256) {
        if (blockNumber >= block.number) revert FutureLookup(blockNumber, block.number);
        return _lookup(_checkpoints[account], blockNumber);
    }

    function getPastTotalSupply(uint256 blockNumber) external view returns (uint256) {
        if (blockNumber >= block.number) revert FutureLookup(blockNumber, block.number);
        return _lookup(_supplyCheckpoints, blockNumber);
    }

    function numCheckpoints(address account) external view returns (uint256) {
        return _checkpoints[account].length;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from == address(0)) _write(_supplyCheckpoints, true, value);
        if (to == address(0)) _write(_supplyCheckpoints, false, value);
        _moveVotes(delegates[from], delegates[to], value);
    }

    function _moveVotes(address from, address to, uint256 amount) private {
        if (from == to || amount == 0) return;
        if (from != address(0)) {
            (uint256 previousVotes, uint256 newVotes) = _write(_checkpoints[from], false, amount);
            emit DelegateVotesChanged(from, previousVotes, newVotes);
        }
        if (to != address(0)) {
            (uint256 previousVotes, uint256 newVotes) = _write(_checkpoints[to], true, amount);
            emit DelegateVotesChanged(to, previousVotes, newVotes);
        }
    }

    function _write(Checkpoint[] storage checkpoints, bool add, uint256 delta) private returns (uint256 previousVotes, uint256 newVotes) {
        previousVotes = _latest(checkpoints);
        newVotes = add ? previousVotes + delta : previousVotes - delta;
        if (newVotes > type(uint208).max) revert VotesOverflow(newVotes);
        uint48 current = uint48(block.number);
        uint256 length = checkpoints.length;
        if (length > 0 && checkpoints[length - 1].fromBlock == current) {
            checkpoints[length - 1].votes = uint208(newVotes);
        } else {
            checkpoints.push(Checkpoint({fromBlock: current, votes: uint208(newVotes)}));
        }
    }

    function _latest(Checkpoint[] storage checkpoints) private view returns (uint256) {
        uint256 length = checkpoints.length;
        return length == 0 ? 0 : checkpoints[length - 1].votes;
    }

    /// @dev The votes of the last checkpoint at or before `blockNumber` (binary search).
    function _lookup(Checkpoint[] storage checkpoints, uint256 blockNumber) private view returns (uint256) {
        uint256 low = 0;
        uint256 high = checkpoints.length;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (checkpoints[mid].fromBlock > blockNumber) {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        return high == 0 ? 0 : checkpoints[high - 1].votes;
    }
}

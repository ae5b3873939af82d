// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721Receiver} from "./xai/IERC721Receiver.sol";
import {Ownable} from "./xai/Ownable.sol";

/// @title Collectible
/// @notice A minimal ERC-721: the owner mints tokens with increasing ids; holders and their
/// approved operators transfer them, and safeTransferFrom checks that a receiving contract accepts.
contract Collectible is Ownable {
    string public name;
    string public symbol;
    uint256 public nextTokenId;

    mapping(uint256 tokenId => address) private _owners;
    mapping(address holder => uint256) private _balances;
    mapping(uint256 tokenId => address) private _tokenApprovals;
    mapping(address holder => mapping(address operator => bool)) private _operatorApprovals;

    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Approval(address indexed holder, address indexed approved, uint256 indexed tokenId);
    event ApprovalForAll(address indexed holder, address indexed operator, bool approved);

    error NonexistentToken(uint256 tokenId);
    error NotApprovedOrHolder(address caller, uint256 tokenId);
    error IncorrectHolder(address from, uint256 tokenId, address holder);
    error InvalidReceiver(address to);
    error InvalidOperator(address operator);
    error ZeroAddress();

    constructor(string memory name_, string memory symbol_) Ownable(msg.sender) {
        name = name_;
        symbol = symbol_;
    }

    /// @notice ERC-165: ERC-165 itself and ERC-721.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 || interfaceId == 0x80ac58cd;
    }

    function balanceOf(address holder) external view returns (uint256) {
        if (holder == address(0)) revert ZeroAddress();
        return _balances[holder];
    }

    function ownerOf(uint256 tokenId) public view returns (address) {
        address holder = _owners[tokenId];
        if (holder == address(0)) revert NonexistentToken(tokenId);
        return holder;
    }

    function approve(address to, uint256 tokenId) external {
        address holder = ownerOf(tokenId);
        if (msg.sender != holder && !_operatorApprovals[holder][msg.sender]) revert NotApprovedOrHolder(msg.sender, tokenId);
        _tokenApprovals[tokenId] = to;
        emit Approval(holder, to, tokenId);
    }

    function getApproved(uint256 tokenId) external view returns (address) {
        ownerOf(tokenId);
        return _tokenApprovals[tokenId];
    }

    function setApprovalForAll(address operator, bool approved) external {
        if (operator == address(0)) revert InvalidOperator(operator);
        _operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function isApprovedForAll(address holder, address operator) external view returns (bool) {
        return _operatorApprovals[holder][operator];
    }

    /// @notice Mints the next token id to `to` (checked like safeTransferFrom when `to` is a contract).
    function mint(address to) external onlyOwner returns (uint256 tokenId) {
        if (to == address(0)) revert InvalidReceiver(to);
        tokenId = nextTokenId++;
        _owners[tokenId] = to;
        unchecked {
            _balances[to] += 1;
        }
        emit Transfer(address(0), to, tokenId);
        _checkReceiver(address(0), to, tokenId, "");
    }

    function transferFrom(address from, address to, uint256 tokenId) public {
        if (to == address(0)) revert InvalidReceiver(to);
        address holder = ownerOf(tokenId);
        if (holder != from) revert IncorrectHolder(from, tokenId, holder);
        if (msg.sender != holder && _tokenApprovals[tokenId] != msg.sender && !_operatorApprovals[holder][msg.sender]) {
            revert NotApprovedOrHolder(msg.sender, tokenId);
        }
        delete _tokenApprovals[tokenId];
        unchecked {
            _balances[from] -= 1;
            _balances[to] += 1;
        }
        _owners[tokenId] = to;
        emit Transfer(from, to, tokenId);
    }

    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        _checkReceiver(from, to, tokenId, data);
    }

    /// @dev A contract receiving a token must return the onERC721Received selector; a revert
    /// inside it is passed on, and a contract without the function is refused.
    function _checkReceiver(address from, address to, uint256 tokenId, bytes memory data) private {
        if (to.code.length == 0) return;
        try IERC721Receiver(to).onERC721Received(msg.sender, from, tokenId, data) returns (bytes4 selector) {
            if (selector != IERC721Receiver.onERC721Received.selector) revert InvalidReceiver(to);
        } catch (bytes memory reason) {
            if (reason.length == 0) revert InvalidReceiver(to);
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
    }
}

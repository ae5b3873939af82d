// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice What a contract implements to accept ERC-721 tokens through safeTransferFrom.
interface IERC721Receiver {
    /// @return The selector of this function, `IERC721Receiver.onERC721Received.selector`.
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data) external returns (bytes4);
}

package io.pgqrs.exampleapp;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The JSON body of {@code POST /orders}, as received: every field may be missing.
 *
 * @param item what is bought
 * @param quantity how many
 * @param customerEmail the customer's email address
 */
public record OrderRequest(@Nullable String item, @Nullable Integer quantity, @Nullable String customerEmail) {

  /** The longest item name accepted. */
  public static final int MAX_ITEM_LENGTH = 200;

  /** The largest quantity accepted. */
  public static final int MAX_QUANTITY = 1000;

  private static final int MAX_EMAIL_LENGTH = 254;

  // One '@', no spaces, a dot in the domain: enough to catch typing mistakes; the mail server
  // has the final word.
  private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+\\.[^@\\s]+");

  /**
   * Checks every field and returns the order.
   *
   * @return the validated order, with item and email trimmed
   * @throws InvalidOrderException naming every bad field, if any
   */
  public Order validate() {
    Map<String, String> errors = new LinkedHashMap<>();
    String trimmedItem = item == null ? "" : item.strip();
    if (trimmedItem.isEmpty()) {
      errors.put("item", "is required");
    } else if (trimmedItem.length() > MAX_ITEM_LENGTH) {
      errors.put("item", "must be at most " + MAX_ITEM_LENGTH + " characters");
    }
    if (quantity == null) {
      errors.put("quantity", "is required");
    } else if (quantity < 1 || quantity > MAX_QUANTITY) {
      errors.put("quantity", "must be between 1 and " + MAX_QUANTITY);
    }
    String trimmedEmail = customerEmail == null ? "" : customerEmail.strip();
    if (trimmedEmail.isEmpty()) {
      errors.put("customerEmail", "is required");
    } else if (trimmedEmail.length() > MAX_EMAIL_LENGTH || !EMAIL.matcher(trimmedEmail).matches()) {
      errors.put("customerEmail", "must be an email address such as ada@example.com");
    }
    if (!errors.isEmpty() || quantity == null) {
      throw new InvalidOrderException(errors);
    }
    return new Order(trimmedItem, quantity, trimmedEmail);
  }
}

package io.pgqrs.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.pgqrs.StoreOperationException;

/** The JSON mapper the engine uses when the application gives none, and stored-payload parsing. */
public final class Json {

  private static final ObjectMapper MAPPER = newMapper();

  private Json() {}

  /**
   * A new mapper with Java time support and ISO-8601 dates.
   *
   * @return the mapper
   */
  public static ObjectMapper newMapper() {
    return new ObjectMapper()
        .registerModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
  }

  /**
   * Parses a stored payload.
   *
   * @param text JSON text read from the store
   * @return the tree
   * @throws StoreOperationException if the store returned text that is not JSON
   */
  public static JsonNode parse(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new StoreOperationException("read payload", "stored payload is not JSON: " + e.getOriginalMessage(), e);
    }
  }
}
